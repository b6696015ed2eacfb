#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (ASan + libFuzzer instrumentation through
# Fuzz/toolset.json, into .build-fuzz/) and runs each for SECONDS (default 60), starting from
# the checked-in corpus Fuzz/corpus/<target>/. Exits non-zero if any target crashes or
# violates a property, naming the saved input.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]   targets: transaction block blockfile script connect frame message json
#   bash scripts/fuzz.sh --write-seeds           regenerate the generated seeds in Fuzz/corpus/
#
# New inputs found go to .build-fuzz/corpus/<target>/ (kept between runs, never checked in);
# crash inputs to .build-fuzz/crashes/<target>/. Reproduce one with
#   SWIFT_BACKTRACE=enable=no .build-fuzz/debug/Fuzz<Name> FILE
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

declare -A binaries=([transaction]=FuzzTransaction [block]=FuzzBlock [blockfile]=FuzzBlockFile [script]=FuzzScript [connect]=FuzzConnect [frame]=FuzzFrame [message]=FuzzMessage [json]=FuzzJSON)
all=(transaction block blockfile script connect frame message json)

start=$(date +%s)
# (gold warns once per ASan symbol on every link: noise.)
swift build --package-path Fuzz --scratch-path .build-fuzz -c debug --toolset Fuzz/toolset.json 2>&1 \
  | { grep -v "ld.gold: warning: Cannot export local symbol" || true; } >&2
echo "fuzz: build took $(( $(date +%s) - start )) s" >&2
bin=.build-fuzz/debug

# Swift's own crash handler trips ASan when a target traps; libFuzzer prints the trace instead.
# Leak checks are off: the Swift runtime's caches read as leaks.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

if [ "${1:-}" = "--write-seeds" ]; then
  RUSTY_FUZZ_WRITE_SEEDS=Fuzz/corpus "$bin/FuzzConnect"
  RUSTY_FUZZ_WRITE_SEEDS=Fuzz/corpus "$bin/FuzzFrame"
  exit 0
fi

seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

failed=0
for target in "${targets[@]}"; do
  binary=${binaries[$target]:-}
  [ -n "$binary" ] || { echo "fuzz: unknown target '$target' (targets: ${all[*]})" >&2; exit 64; }
  mkdir -p ".build-fuzz/corpus/$target" ".build-fuzz/crashes/$target"
  log=".build-fuzz/crashes/$target/last-run.log"
  if "$bin/$binary" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" -max_total_time="$seconds" -timeout=30 \
       -detect_leaks=0 -print_final_stats=1 -artifact_prefix=".build-fuzz/crashes/$target/" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz: $target: ok, $runs runs in ${seconds} s ($rate exec/s, $coverage)"
  else
    failed=1
    echo "fuzz: $target: FAILED (log: $log)" >&2
    grep -E "property violated|Fatal error|Precondition failed|ERROR: |SUMMARY|#[0-9]+ 0x.* in .*(/Sources/|/Fuzz/)" "$log" | head -20 >&2 || tail -30 "$log" >&2
    sed -n 's/.*Test unit written to \(.*\)/fuzz: crash input: \1/p' "$log" >&2
  fi
done
exit $failed
