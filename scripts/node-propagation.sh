#!/usr/bin/env bash
# Block propagation through a line of 5 nodes (docs/PERFORMANCE.md, "Node: propagation"):
# N1 - N2 - N3 - N4 - N5 on loopback, each knowing the chain up to the block before a big
# last block (about 1 MB) that only N1 has. N1 joins; the block goes N1 -> N2 by header sync,
# then hop by hop by announcement (headers), getdata, validation through the pipeline,
# flush and the next announcement. Reports each relay hop (N2 -> N3, N3 -> N4, N4 -> N5) from
# the nodes' "new tip" log lines, per round, and the median per hop over all rounds.
#
#   scripts/node-propagation.sh [--rounds 5] [--txs 1840]   (1,840 transactions: a block of about 1 MB)
#
# Uses $RUSTY if set, otherwise builds the release binary. Ports 29701-29705 on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5; txs=1840
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --txs) txs="$2"; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [ -z "${RUSTY:-}" ]; then
    swift build -c release --product rusty >&2
    RUSTY="$(swift build -c release --show-bin-path)/rusty"
fi

work="${TMPDIR:-/tmp}/rusty-node-propagation"
rm -rf "$work"; mkdir -p "$work"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# A chain whose last block is about 1 MB: enough blocks for the generator to fan coins out.
"$RUSTY" gen-chain --blocks 140 --txs-per-block "$txs" --seed 7 --out "$work/full.blk" >/dev/null
# base.blk: every record but the last (records are magic | length u32 LE | block).
python3 - "$work/full.blk" "$work/base.blk" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
offsets, at = [], 0
while at < len(data):
    length = struct.unpack_from('<I', data, at + 4)[0]
    offsets.append((at, 8 + length)); at += 8 + length
last = offsets[-1]
open(sys.argv[2], 'wb').write(data[:last[0]])
print(f"last block: {last[1] - 8} bytes", file=sys.stderr)
PY
"$RUSTY" verify-chain --network regtest --datadir "$work/base/regtest" "$work/base.blk" >/dev/null
"$RUSTY" verify-chain --network regtest --datadir "$work/full/regtest" "$work/full.blk" >/dev/null
height=$("$RUSTY" utxo-info --datadir "$work/full/regtest" --json | grep -o '"height":[0-9]*' | cut -d: -f2)

status_field() { grep -o "\"$2\" *: *[0-9]*" "$1/regtest/node-status.json" 2>/dev/null | head -1 | sed 's/.*: *//'; }
tip_time() { grep "new tip: height $height " "$1/regtest/debug.log" | head -1 | cut -d' ' -f1; }
to_seconds() { date -d "$1" +%s.%N; }

hops=()
for round in $(seq "$rounds"); do
    for n in 1 2 3 4 5; do rm -rf "$work/n$n"; cp -r "$work/$([ $n = 1 ] && echo full || echo base)" "$work/n$n"; done
    # N5 first, each next one dialling the one after it.
    for n in 5 4 3 2; do
        next=()
        [ $n -lt 5 ] && next=(--addnode "127.0.0.1:$((29701 + n))")
        "$RUSTY" node --network regtest --datadir "$work/n$n" --port $((29700 + n)) --bind 127.0.0.1 --no-server --no-printtoconsole "${next[@]}" >/dev/null 2>&1 &
        pids+=($!)
        for _ in $(seq 200); do [ -s "$work/n$n/regtest/node-status.json" ] && break; sleep 0.05; done
    done
    for n in 2 3 4; do
        for _ in $(seq 200); do [ "$(status_field "$work/n$n" outboundCount)" = "1" ] && break; sleep 0.05; done
    done
    "$RUSTY" node --network regtest --datadir "$work/n1" --port 29701 --bind 127.0.0.1 --no-server --no-printtoconsole --addnode 127.0.0.1:29702 >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 600); do [ "$(status_field "$work/n5" height)" = "$height" ] && break; sleep 0.05; done
    [ "$(status_field "$work/n5" height)" = "$height" ] || { echo "round $round: the block did not reach N5" >&2; tail -30 "$work"/n*/regtest/debug.log >&2; exit 1; }
    line="round $round:"
    for n in 2 3 4; do
        hop=$(echo "$(to_seconds "$(tip_time "$work/n$((n + 1))")") - $(to_seconds "$(tip_time "$work/n$n")")" | bc)
        hops+=("$hop")
        line+=$(printf ' N%d->N%d %.0f ms' "$n" $((n + 1)) "$(echo "$hop * 1000" | bc)")
    done
    echo "$line"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
done
printf '%s\n' "${hops[@]}" | sort -n | awk '{ h[NR] = $1 } END {
    m = (NR % 2) ? h[(NR + 1) / 2] : (h[NR / 2] + h[NR / 2 + 1]) / 2
    printf "median per hop %.0f ms (min %.0f, max %.0f, %d hops)\n", m * 1000, h[1] * 1000, h[NR] * 1000, NR }'
