#!/usr/bin/env bash
# Pipeline efficiency (docs/PERFORMANCE.md, "Bulk verification"): signatures per second of
# `rusty verify-chain` on a generated chain, divided by those of `rusty sig verify-batch`
# on exactly that chain's signatures, same backend and threads. The two commands run
# alternately so a slow phase of a shared machine hits both; each round gives one ratio.
#
#   scripts/pipeline-efficiency.sh [--threads "1 2"] [--backend simd] [--rounds 5]
#                                  [--blocks 2200] [--txs-per-block 100] [--seed 3]
#
# Uses $RUSTY if set, otherwise builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."

threads="1 2"; backend=simd; rounds=5; blocks=2200; txs=100; seed=3
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --backend) backend="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --blocks) blocks="$2"; shift 2 ;;
        --txs-per-block) txs="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

if [ -z "${RUSTY:-}" ]; then
    swift build -c release --product rusty >&2
    RUSTY="$(swift build -c release --show-bin-path)/rusty"
fi

work="${TMPDIR:-/tmp}/rusty-pipeline-efficiency-$blocks-$txs-$seed"
mkdir -p "$work"
if [ ! -s "$work/chain.blk" ] || [ ! -s "$work/signatures.jsonl" ]; then
    echo "generating $blocks blocks x $txs transactions (seed $seed) and their signatures..." >&2
    "$RUSTY" gen-chain --blocks "$blocks" --txs-per-block "$txs" --seed "$seed" \
        --out "$work/chain.blk" --signatures "$work/signatures.jsonl" >&2
fi
echo "signatures: $(wc -l < "$work/signatures.jsonl"), backend $backend, $rounds rounds" >&2

rate() { grep -o '"signaturesPerSecond":[0-9.e+]*' | head -1 | cut -d: -f2; }

for t in $threads; do
    ratios=()
    for round in $(seq "$rounds"); do
        # Each command starts on a settled machine: the previous datadir is deleted and
        # its write-back finished before either runs.
        rm -rf "$work/datadir"; sync; sleep 1
        batch=$("$RUSTY" sig verify-batch "$work/signatures.jsonl" --backend "$backend" --threads "$t" --json | rate)
        sleep 1
        chain=$("$RUSTY" verify-chain "$work/chain.blk" --datadir "$work/datadir" --backend "$backend" --threads "$t" --json | rate)
        ratio=$(awk -v c="$chain" -v b="$batch" 'BEGIN { printf "%.3f", c / b }')
        ratios+=("$ratio")
        printf 'threads %s round %s: verify-batch %.0f sig/s, verify-chain %.0f sig/s, ratio %s\n' "$t" "$round" "$batch" "$chain" "$ratio"
    done
    printf '%s\n' "${ratios[@]}" | sort -n | awk -v t="$t" '{ r[NR] = $1 } END {
        m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
        printf "threads %s: median ratio %.3f (min %.3f, max %.3f, %d rounds)\n", t, m, r[1], r[NR], NR }'
done
rm -rf "$work/datadir"
