#!/usr/bin/env bash
# The main job on embedded defaults: a release build, then hash a generated 256 MiB file
# (BLAKE3 at the best SIMD level, compared with b3sum when installed) and print the
# device summary.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build -c release --product rusty
rusty=.build/release/rusty
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c $((256 * 1024 * 1024)) /dev/urandom > "$work/data.bin"
"$rusty" devices
echo
start=$(date +%s.%N)
"$rusty" hash --num-threads 1 "$work/data.bin"
end=$(date +%s.%N)
echo "rusty hash, 256 MiB, one thread: $(python3 -c "print(f'{256/1024/($end-$start):.2f} GiB/s')" 2>/dev/null || echo "$end - $start s")"
if command -v b3sum >/dev/null; then
  b3sum --num-threads 1 "$work/data.bin"
fi
echo
"$rusty" chain-params --network regtest
