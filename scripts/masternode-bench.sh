#!/usr/bin/env bash
# Connecting blocks with and without a masternode list of 5,000 entries (issue #17's goal:
# at most 10% more). Generates three chains of the same shape with `rusty gen-chain`
# (regtest, same seed and transactions per block):
#   plain  no masternodes;
#   none   --masternodes N --masternode-activity none: the registrations, then nothing but the
#          ordinary mix, so its steady blocks carry the same workload as `plain` over a full list;
#   full   --masternodes N: the registrations, then 7 or so masternode transactions a block.
# Each chain's first PREFIX blocks (maturity, then the registrations) are verified once into a
# datadir; every round copies that datadir and times `rusty verify-chain FULL.blk` into the
# copy, which skips the known blocks and connects the steady stretch alone (CPU = user + sys
# of the process from /usr/bin/time; wall = the `seconds` verify-chain reports). Rounds
# alternate the modes; the figures are medians. `none / plain` is the list's own cost (the
# goal); `full / none` adds the cost of the masternode transactions themselves.
#
#   scripts/masternode-bench.sh                        # release build, then 7 rounds
#   RUSTY=.build/release/rusty scripts/masternode-bench.sh
#   ROUNDS=9 WORK=/tmp/mnbench scripts/masternode-bench.sh   # chains and prefix datadirs kept in WORK, reused
#   MODES="plain none" BLOCKS=600 PREFIX=230 TXS=200 MASTERNODES=5000 scripts/masternode-bench.sh
#   SETTLE=1 ROUNDS=9 WORK=/tmp/mnbench scripts/masternode-bench.sh   # prefix datadirs reopened once first
#
# The prefix datadir as verify-chain leaves it holds its whole history in RocksDB's write-ahead
# log (nothing fills a memtable, and a close does not flush one while the log is on), so each
# timed run first replays that log and writes it out as table files, a cost that grows with
# everything the prefix wrote. SETTLE=1 times the datadir of a node that has restarted since:
# the prefix is reopened for writing once (the replay and the table files happen then), so a
# timed run opens table files and a near-empty log.
set -euo pipefail
cd "$(dirname "$0")/.."

BLOCKS=${BLOCKS:-430}
PREFIX=${PREFIX:-230}
TXS=${TXS:-100}
MASTERNODES=${MASTERNODES:-5000}
SEED=${SEED:-7}
VERIFY_FLAGS=${VERIFY_FLAGS:-}
ROUNDS=${ROUNDS:-7}
SETTLE=${SETTLE:-0}
MODES=${MODES:-plain none full}

if [ -z "${RUSTY:-}" ]; then
    swift build -c release --product rusty >&2
    RUSTY=.build/release/rusty
fi
[ -x /usr/bin/time ] || { echo "masternode-bench: needs /usr/bin/time (GNU time) for CPU seconds" >&2; exit 1; }
if [ -n "${WORK:-}" ]; then
    work=$WORK
    mkdir -p "$work"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi

field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])$1)"; }
flags() {
    case $1 in
        plain) ;;
        none) echo "--masternodes $MASTERNODES --masternode-activity none" ;;
        full) echo "--masternodes $MASTERNODES --masternode-activity full" ;;
        *) echo "masternode-bench: unknown mode '$1' (plain, none, full)" >&2; exit 1 ;;
    esac
}
tag() { echo "$1-$BLOCKS-$PREFIX-$TXS-$MASTERNODES-$SEED"; }

for mode in $MODES; do
    t=$(tag "$mode")
    if ! [ -s "$work/$t-prefix.blk" ] || ! [ -s "$work/$t.blk" ]; then
        # shellcheck disable=SC2046
        "$RUSTY" gen-chain --blocks "$PREFIX" --txs-per-block "$TXS" --seed "$SEED" $(flags "$mode") --out "$work/$t-prefix.blk" --json >/dev/null
        # shellcheck disable=SC2046
        "$RUSTY" gen-chain --blocks "$BLOCKS" --txs-per-block "$TXS" --seed "$SEED" $(flags "$mode") --out "$work/$t.blk" --json > "$work/$t.json"
    fi
    if ! [ -d "$work/$t-prefixdata" ]; then
        rm -rf "$work/$t-prefixdata.tmp"
        "$RUSTY" verify-chain "$work/$t-prefix.blk" --datadir "$work/$t-prefixdata.tmp" $VERIFY_FLAGS --json > "$work/$t-prefix-verify.json"
        mv "$work/$t-prefixdata.tmp" "$work/$t-prefixdata"
    fi
    if [ "$SETTLE" = 1 ] && ! [ -d "$work/$t-prefixdata-settled" ]; then
        rm -rf "$work/$t-prefixdata-settled.tmp"
        cp -a "$work/$t-prefixdata" "$work/$t-prefixdata-settled.tmp"
        # Every block is known: this only opens the database (replaying its log) and closes it.
        "$RUSTY" verify-chain "$work/$t-prefix.blk" --datadir "$work/$t-prefixdata-settled.tmp" $VERIFY_FLAGS --json >/dev/null
        mv "$work/$t-prefixdata-settled.tmp" "$work/$t-prefixdata-settled"
    fi
    echo "$mode: $(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['transactions'], 'transactions;', 'list', d.get('masternodeListSize', 0), 'entries;', d.get('masternodes', {}))" "$work/$t.json")" >&2
done

# One line per round and mode: mode blocks transactions wall cpu load.
rows=$work/rounds.txt
: > "$rows"
echo "load at start: $(uptime)" >&2
for round in $(seq "$ROUNDS"); do
    for mode in $MODES; do
        t=$(tag "$mode")
        rm -rf "$work/run"
        if [ "$SETTLE" = 1 ]; then cp -a "$work/$t-prefixdata-settled" "$work/run"; else cp -a "$work/$t-prefixdata" "$work/run"; fi
        out=$( { /usr/bin/time -f "CPUTIME %U %S" "$RUSTY" verify-chain "$work/$t.blk" --datadir "$work/run" $VERIFY_FLAGS --json; } 2>&1 )
        json=$(echo "$out" | grep '^{' | tail -1)
        [ "$(echo "$json" | field '["valid"]')" = True ] || { echo "verify-chain refused the $mode chain: $out" >&2; exit 1; }
        [ "$(echo "$json" | field '["utxoDigest"]')" = "$(field '["utxoDigest"]' < "$work/$t.json")" ] || { echo "$mode: UTXO digest differs from gen-chain's" >&2; exit 1; }
        cpu=$(echo "$out" | awk '/^CPUTIME/ { print $2 + $3 }')
        line="$mode $(echo "$json" | field '["blocks"]') $(echo "$json" | field '["transactions"]') $(echo "$json" | field '["seconds"]') $cpu $(cut -d' ' -f1 /proc/loadavg)"
        echo "$line" >> "$rows"
        echo "round $round: $line" >&2
    done
done
rm -rf "$work/run"
echo "load at end: $(uptime)" >&2
[ -s "$rows" ] || exit 0   # ROUNDS=0: chains and prefix datadirs only

python3 - "$rows" "$BLOCKS" "$PREFIX" "$TXS" "$MASTERNODES" <<'PY'
import statistics, sys
rows, blocks, prefix, txs, mns = sys.argv[1], *sys.argv[2:]
runs = {}
for line in open(rows):
    mode, b, t, wall, cpu, load = line.split()
    runs.setdefault(mode, []).append((int(b), int(t), float(wall), float(cpu), float(load)))
names = {"plain": "without masternodes", "none": f"{mns} masternodes, no activity", "full": f"{mns} masternodes, full activity"}
med = {}
print(f"chain: regtest, {blocks} blocks, {txs} transactions per block, registrations in blocks 1-{prefix}; timed: the blocks after {prefix}")
print(f"{len(next(iter(runs.values())))} alternating rounds, medians (min-max); load average {min(r[4] for v in runs.values() for r in v):.1f}-{max(r[4] for v in runs.values() for r in v):.1f}")
print(f"{'':34}{'blocks':>7}{'tx':>7}{'CPU s':>19}{'wall s':>19}{'CPU us/block':>14}{'CPU us/tx':>11}")
for mode, v in runs.items():
    b, t = v[0][0], v[0][1]
    cpu, wall = [r[3] for r in v], [r[2] for r in v]
    med[mode] = (b, t, statistics.median(cpu), statistics.median(wall))
    fmt = lambda xs: f"{statistics.median(xs):.3f} ({min(xs):.2f}-{max(xs):.2f})"
    print(f"{names[mode]:34}{b:7}{t:7}{fmt(cpu):>19}{fmt(wall):>19}{1e6 * med[mode][2] / b:14.0f}{1e6 * med[mode][2] / t:11.1f}")
def ratio(a, b, label):
    if a not in med or b not in med: return
    (ab, at, ac, aw), (bb, bt, bc, bw) = med[a], med[b]
    print(f"{label}: CPU {ac / ab / (bc / bb):.3f} per block, {ac / at / (bc / bt):.3f} per transaction; "
          f"wall {aw / ab / (bw / bb):.3f} per block, {aw / at / (bw / bt):.3f} per transaction")
    # The two runs of one round ran side by side, under the same load: their ratio drifts less.
    paired = sorted((x[3] / x[1]) / (y[3] / y[1]) for x, y in zip(runs[a], runs[b]))
    print(f"    CPU per transaction, ratio within each round: median {statistics.median(paired):.3f}, "
          f"quartiles {paired[len(paired) // 4]:.3f}-{paired[(3 * len(paired)) // 4]:.3f}, range {paired[0]:.3f}-{paired[-1]:.3f}")
ratio("none", "plain", "list's own cost (none / plain; goal at most 1.10)")
ratio("full", "plain", "full activity / plain")
ratio("full", "none", "masternode transactions (full / none)")
if "full" in med and "none" in med and med["full"][1] > med["none"][1]:
    (fb, ft, fc, fw), (nb, nt, nc, nw) = med["full"], med["none"]
    extra = ft - nt
    print(f"the {extra} extra transactions of full activity: {1e6 * (fc - nc) / extra:.0f} us CPU each "
          f"(ordinary transactions over the same list: {1e6 * nc / nt:.0f} us each)")
PY
