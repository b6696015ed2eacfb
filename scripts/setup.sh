#!/usr/bin/env bash
# Installs the Debian packages the build and tests need (idempotent; skips apt when all
# are present). Run as root, or with sudo available.
set -euo pipefail

packages=(libssl-dev b3sum libsodium-dev ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd librocksdb-dev libjemalloc-dev valgrind python3)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1; then
  for dir in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    [ -x "$dir/swift" ] && export PATH="$dir:$PATH" && break
  done
fi
command -v swift >/dev/null 2>&1 || { echo "setup: the Swift 6 toolchain is required (swift not found on PATH)" >&2; exit 1; }
