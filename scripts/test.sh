#!/usr/bin/env bash
# The whole test suite: system packages, then `swift test` (debug build, C targets at -O3).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build --product rusty
swift test "$@"
# The concurrent chain-state suites under the thread sanitizer (a separate build).
swift test --sanitize=thread --scratch-path .build-tsan --filter 'ChainServiceConcurrencyTests|ChainServiceTests'
