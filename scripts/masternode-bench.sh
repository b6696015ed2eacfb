#!/usr/bin/env bash
# Connecting blocks with and without a masternode list of 5,000 entries (issue #17's goal:
# at most 10% more). Generates the same chain shape twice with `rusty gen-chain` (regtest),
# once with `--masternodes 5000`, and validates both with `rusty verify-chain` in two steps:
# the first PREFIX blocks (maturity, then the registrations), then the rest (ordinary blocks
# while the list holds 5,000 entries, each with a few masternode updates); verify-chain
# resumes where the first step stopped, so the second step times the steady stretch alone.
#
#   scripts/masternode-bench.sh            # release build, then both runs
#   BLOCKS=600 PREFIX=230 TXS=200 MASTERNODES=5000 scripts/masternode-bench.sh
#   RUSTY=.build/release/rusty scripts/masternode-bench.sh   # an existing build
#   ROUNDS=5 WORK=/tmp/mnbench scripts/masternode-bench.sh   # 5 alternating rounds, medians;
#                                                            # chains kept in WORK and reused
set -euo pipefail
cd "$(dirname "$0")/.."

BLOCKS=${BLOCKS:-430}
PREFIX=${PREFIX:-230}
TXS=${TXS:-100}
MASTERNODES=${MASTERNODES:-5000}
SEED=${SEED:-7}
VERIFY_FLAGS=${VERIFY_FLAGS:-}
ROUNDS=${ROUNDS:-1}

if [ -z "${RUSTY:-}" ]; then
    swift build -c release --product rusty >&2
    RUSTY=.build/release/rusty
fi
if [ -n "${WORK:-}" ]; then
    work=$WORK
    mkdir -p "$work"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi

field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])$1)"; }

for mode in plain masternodes; do
    extra=()
    [ "$mode" = masternodes ] && extra=(--masternodes "$MASTERNODES")
    tag="$mode-$BLOCKS-$PREFIX-$TXS-$MASTERNODES-$SEED"
    [ -s "$work/$tag-prefix.blk" ] && [ -s "$work/$tag.blk" ] && continue
    "$RUSTY" gen-chain --blocks "$PREFIX" --txs-per-block "$TXS" --seed "$SEED" "${extra[@]}" --out "$work/$tag-prefix.blk" --json >/dev/null
    summary=$("$RUSTY" gen-chain --blocks "$BLOCKS" --txs-per-block "$TXS" --seed "$SEED" "${extra[@]}" --out "$work/$tag.blk" --json)
    if [ "$mode" = masternodes ]; then
        echo "gen-chain --masternodes $MASTERNODES: $(echo "$summary" | field '["masternodes"]'), list at the end: $(echo "$summary" | field '["masternodeListSize"]')" >&2
    fi
done

# Alternating rounds; each verifies into a fresh datadir. Per round and mode: prefix seconds,
# steady-stretch blocks, transactions and seconds.
declare -A result
for round in $(seq "$ROUNDS"); do
    for mode in plain masternodes; do
        tag="$mode-$BLOCKS-$PREFIX-$TXS-$MASTERNODES-$SEED"
        rm -rf "$work/$mode-data"
        first=$("$RUSTY" verify-chain "$work/$tag-prefix.blk" --datadir "$work/$mode-data" $VERIFY_FLAGS --json)
        second=$("$RUSTY" verify-chain "$work/$tag.blk" --datadir "$work/$mode-data" $VERIFY_FLAGS --json)
        [ "$(echo "$second" | field '["valid"]')" = True ] || { echo "verify-chain refused the $mode chain: $second" >&2; exit 1; }
        result[$mode-prefix-seconds]+="$(echo "$first" | field '["seconds"]') "
        result[$mode-blocks]=$(echo "$second" | field '["blocks"]')
        result[$mode-transactions]=$(echo "$second" | field '["transactions"]')
        result[$mode-seconds]+="$(echo "$second" | field '["seconds"]') "
        echo "round $round $mode: $(echo "$second" | field '["seconds"]') s" >&2
    done
done
rm -rf "$work/plain-data" "$work/masternodes-data"

python3 - "$BLOCKS" "$PREFIX" "$TXS" "$MASTERNODES" \
    "${result[plain-prefix-seconds]}" "${result[plain-blocks]}" "${result[plain-transactions]}" "${result[plain-seconds]}" \
    "${result[masternodes-prefix-seconds]}" "${result[masternodes-blocks]}" "${result[masternodes-transactions]}" "${result[masternodes-seconds]}" <<'PY'
import statistics, sys
blocks, prefix, txs, mns = sys.argv[1:5]
times = lambda text: [float(t) for t in text.split()]
p_pres, p_secs, m_pres, m_secs = times(sys.argv[5]), times(sys.argv[8]), times(sys.argv[9]), times(sys.argv[12])
p_blocks, p_txs, m_blocks, m_txs = map(float, (sys.argv[6], sys.argv[7], sys.argv[10], sys.argv[11]))
p_pre, p_sec, m_pre, m_sec = map(statistics.median, (p_pres, p_secs, m_pres, m_secs))
print(f"chain: regtest, {blocks} blocks, {txs} transactions per block; registrations in blocks 1-{prefix}, then {int(p_blocks)} ordinary blocks")
print(f"{len(p_secs)} rounds (medians below); seconds per round: without {p_secs}, with {m_secs}")
print("per-round ratio per transaction: " + ", ".join(f"{(m / m_txs) / (p / p_txs):.3f}" for p, m in zip(p_secs, m_secs)))
print(f"{'':28}{'blocks/s':>10}{'tx/s':>10}{'seconds':>10}")
print(f"{'without masternodes':28}{p_blocks / p_sec:10.1f}{p_txs / p_sec:10.0f}{p_sec:10.2f}")
print(f"{'with ' + mns + ' masternodes':28}{m_blocks / m_sec:10.1f}{m_txs / m_sec:10.0f}{m_sec:10.2f}")
print(f"time per block, with / without: {(m_sec / m_blocks) / (p_sec / p_blocks):.3f} (goal: at most 1.10)")
print(f"time per transaction, with / without: {(m_sec / m_txs) / (p_sec / p_txs):.3f}")
print(f"first {prefix} blocks (maturity and registrations): {p_pre:.2f} s without, {m_pre:.2f} s with")
PY
