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
set -euo pipefail
cd "$(dirname "$0")/.."

BLOCKS=${BLOCKS:-430}
PREFIX=${PREFIX:-230}
TXS=${TXS:-100}
MASTERNODES=${MASTERNODES:-5000}
SEED=${SEED:-7}
VERIFY_FLAGS=${VERIFY_FLAGS:-}

if [ -z "${RUSTY:-}" ]; then
    swift build -c release --product rusty >&2
    RUSTY=.build/release/rusty
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])$1)"; }

declare -A result
for mode in plain masternodes; do
    extra=()
    [ "$mode" = masternodes ] && extra=(--masternodes "$MASTERNODES")
    "$RUSTY" gen-chain --blocks "$PREFIX" --txs-per-block "$TXS" --seed "$SEED" "${extra[@]}" --out "$work/$mode-prefix.blk" --json >/dev/null
    summary=$("$RUSTY" gen-chain --blocks "$BLOCKS" --txs-per-block "$TXS" --seed "$SEED" "${extra[@]}" --out "$work/$mode.blk" --json)
    if [ "$mode" = masternodes ]; then
        echo "gen-chain --masternodes $MASTERNODES: $(echo "$summary" | field '["masternodes"]'), list at the end: $(echo "$summary" | field '["masternodeListSize"]')" >&2
    fi
    first=$("$RUSTY" verify-chain "$work/$mode-prefix.blk" --datadir "$work/$mode-data" $VERIFY_FLAGS --json)
    second=$("$RUSTY" verify-chain "$work/$mode.blk" --datadir "$work/$mode-data" $VERIFY_FLAGS --json)
    [ "$(echo "$second" | field '["valid"]')" = True ] || { echo "verify-chain refused the $mode chain: $second" >&2; exit 1; }
    result[$mode-prefix-seconds]=$(echo "$first" | field '["seconds"]')
    result[$mode-blocks]=$(echo "$second" | field '["blocks"]')
    result[$mode-transactions]=$(echo "$second" | field '["transactions"]')
    result[$mode-seconds]=$(echo "$second" | field '["seconds"]')
done

python3 - "$BLOCKS" "$PREFIX" "$TXS" "$MASTERNODES" \
    "${result[plain-prefix-seconds]}" "${result[plain-blocks]}" "${result[plain-transactions]}" "${result[plain-seconds]}" \
    "${result[masternodes-prefix-seconds]}" "${result[masternodes-blocks]}" "${result[masternodes-transactions]}" "${result[masternodes-seconds]}" <<'PY'
import sys
blocks, prefix, txs, mns = sys.argv[1:5]
p_pre, p_blocks, p_txs, p_sec, m_pre, m_blocks, m_txs, m_sec = map(float, sys.argv[5:13])
print(f"chain: regtest, {blocks} blocks, {txs} transactions per block; registrations in blocks 1-{prefix}, then {int(p_blocks)} ordinary blocks")
print(f"{'':28}{'blocks/s':>10}{'tx/s':>10}{'seconds':>10}")
print(f"{'without masternodes':28}{p_blocks / p_sec:10.1f}{p_txs / p_sec:10.0f}{p_sec:10.2f}")
print(f"{'with ' + mns + ' masternodes':28}{m_blocks / m_sec:10.1f}{m_txs / m_sec:10.0f}{m_sec:10.2f}")
print(f"time per block, with / without: {(m_sec / m_blocks) / (p_sec / p_blocks):.3f} (goal: at most 1.10)")
print(f"first {prefix} blocks (maturity and registrations): {p_pre:.2f} s without, {m_pre:.2f} s with")
PY
