#!/usr/bin/env bash
# `rusty mine --stratum` against `rusty pow search` on the same backend (issue 16's goal: the
# pool client reaches >= 97% of the plain search, job switching and submission included).
# First `rusty pow search` hashes a header for --seconds (a target no hash meets, so it only
# searches); then `rusty mine --stratum` mines for the same time against a small pool (below)
# that sends a share about twice a second and a clean job every 5 s.
# Prints both hashrates and their ratio.
#
#   scripts/stratum-efficiency.sh [--backend simd|opencl|scalar] [--seconds 20] [--cpu-threads N]
#
# Uses $RUSTY if set, otherwise builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."

backend=simd; seconds=20; cpu_threads=""
while [ $# -gt 0 ]; do
    case "$1" in
        --backend) backend="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --cpu-threads) cpu_threads="$2"; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [ -z "${RUSTY:-}" ]; then
    swift build -c release --product rusty >&2
    RUSTY="$(swift build -c release --show-bin-path)/rusty"
fi

# `rusty pow search` runs the simd backend on every core; mine gets the same unless told.
mine_threads=()
[ -n "$cpu_threads" ] && mine_threads=(--cpu-threads "$cpu_threads")
[ "$backend" = opencl ] && [ -z "$cpu_threads" ] && mine_threads=(--cpu-threads 0)

# The header: version 1, zero height, hashes and time, bits 0x207fffff; the target 0 is never met.
header="01000000$(printf '0%.0s' $(seq 1 224))ffff7f20$(printf '0%.0s' $(seq 1 16))"
target=$(printf '0%.0s' $(seq 1 64))
pow_rate() {  # nonces -> MH/s reported by rusty pow search
    "$RUSTY" pow search --header "$header" --target "$target" --count "$1" --backend "$backend" 2>&1 >/dev/null \
        | sed -n 's/.*(\([0-9.]*\) MH\/s).*/\1/p' | tail -1
}
calibration=$(pow_rate 16777216)
[ -n "$calibration" ] || { echo "stratum-efficiency: rusty pow search printed no rate" >&2; exit 1; }
count=$(python3 -c "print(int($calibration * 1e6 * $seconds))")
search=$(pow_rate "$count")

# A pool whose block target is out of reach (scripts/efficiency_pool.py): on regtest nearly every
# share would also be a block, each block ends its job and the miner waits for the next, so the
# figure would measure block turnaround, not the client. Shares come about twice a second (a
# regtest difficulty of D is 2D hashes) and a clean job arrives every 5 s: job switching and
# submissions are both in the measurement.
difficulty=$(python3 -c "print(max(1.0, $search * 1e6 / 4))")
stratum_port=23893
work="${TMPDIR:-/tmp}/rusty-stratum-efficiency"
rm -rf "$work"; mkdir -p "$work"
python3 scripts/efficiency_pool.py --port "$stratum_port" --difficulty "$difficulty" --switch 5 &
pool_pid=$!
trap 'kill $pool_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$stratum_port") 2>/dev/null && break; sleep 0.1; done
address=rcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqs0lnfj6
"$RUSTY" mine --network regtest --stratum "stratum+tcp://127.0.0.1:$stratum_port" --user "$address.efficiency" \
    --duration "$seconds" --backend "$backend" "${mine_threads[@]}" --json --status-interval 5 > "$work/mine.jsonl"
summary=$(grep '"event":"summary"' "$work/mine.jsonl" | tail -1)
[ -n "$summary" ] || { echo "stratum-efficiency: rusty mine printed no summary" >&2; cat "$work/mine.jsonl" >&2; exit 1; }
python3 - "$search" "$difficulty" "$summary" <<'PY'
import json, sys
search, difficulty, summary = float(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
mine = summary["hashes"] / summary["seconds"] / 1e6
print("rusty pow search:     %.2f MH/s" % search)
print("rusty mine --stratum: %.2f MH/s over %.1f s (difficulty %.3g: %d accepted, %d rejected, %d stale, %d blocks)"
      % (mine, summary["seconds"], difficulty, summary["accepted"], summary["rejected"], summary["stale"], summary["blocks"]))
print("ratio: %.1f%% (goal >= 97%%)" % (100 * mine / search))
PY
