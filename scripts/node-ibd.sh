#!/usr/bin/env bash
# Initial block download over loopback against verify-chain of the same chain (docs/
# PERFORMANCE.md, "Node: initial block download"): blocks per second of a fresh `rusty node`
# syncing CHAIN from 1 and from 3 seeding nodes, divided by those of `rusty verify-chain
# CHAIN` on a fresh datadir, same backend and threads; and the syncing node's peak RSS.
# Rounds alternate the three runs so a slow phase of a shared machine hits each.
#
#   scripts/node-ibd.sh CHAIN.blk [--backend simd] [--threads 2] [--rounds 3] [--peers "1 3"]
#
# Uses $RUSTY if set, otherwise builds the release binary. Ports 29601-29610 on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

chain="${1:?usage: scripts/node-ibd.sh CHAIN.blk [--backend B] [--threads T] [--rounds N] [--peers \"1 3\"]}"; shift
chain="$(cd "$(dirname "$chain")" && pwd)/$(basename "$chain")"
backend=simd; threads=2; rounds=3; peer_counts="1 3"
while [ $# -gt 0 ]; do
    case "$1" in
        --backend) backend="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --peers) peer_counts="$2"; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [ -z "${RUSTY:-}" ]; then
    swift build -c release --product rusty >&2
    RUSTY="$(swift build -c release --show-bin-path)/rusty"
fi

work="${TMPDIR:-/tmp}/rusty-node-ibd"
rm -rf "$work"; mkdir -p "$work"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The seeding nodes' datadir: the chain verified once, copied per seed.
"$RUSTY" verify-chain --network regtest --datadir "$work/seed/regtest" "$chain" --backend "$backend" --threads "$threads" --json > "$work/seed.json"
height=$(grep -o '"height":[0-9]*' "$work/seed.json" | head -1 | cut -d: -f2)
digest=$("$RUSTY" utxo-info --datadir "$work/seed/regtest" --json | grep -o '"digest":"[0-9a-f]*"' | cut -d'"' -f4)
echo "chain: height $height, UTXO digest $digest; backend $backend, threads $threads" >&2

status_field() { grep -o "\"$2\" *: *[0-9]*" "$1/regtest/node-status.json" 2>/dev/null | head -1 | sed 's/.*: *//'; }

# Starts `count` seeds on ports 29601...; echoes nothing.
start_seeds() {
    local count=$1
    for i in $(seq "$count"); do
        rm -rf "$work/seed$i"; cp -r "$work/seed" "$work/seed$i"
        "$RUSTY" node --network regtest --datadir "$work/seed$i" --port $((29600 + i)) --bind 127.0.0.1 --no-server --no-printtoconsole \
            --threads 1 >/dev/null 2>&1 &
        pids+=($!)
    done
    for i in $(seq "$count"); do
        for _ in $(seq 200); do [ "$(status_field "$work/seed$i" height)" = "$height" ] && break; sleep 0.05; done
    done
}

stop_all() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done; pids=(); }

for round in $(seq "$rounds"); do
    rm -rf "$work/verify"; sync; sleep 1
    start=$(date +%s.%N)
    "$RUSTY" verify-chain --network regtest --datadir "$work/verify/regtest" "$chain" --backend "$backend" --threads "$threads" --json > /dev/null
    verify_seconds=$(echo "$(date +%s.%N) - $start" | bc)
    verify_rate=$(echo "$height / $verify_seconds" | bc -l)
    printf 'round %s: verify-chain %.2f s, %.1f blocks/s\n' "$round" "$verify_seconds" "$verify_rate"
    for count in $peer_counts; do
        start_seeds "$count"
        connect=()
        for i in $(seq "$count"); do connect+=(--connect "127.0.0.1:$((29600 + i))"); done
        rm -rf "$work/fresh"; sync; sleep 1
        start=$(date +%s.%N)
        "$RUSTY" node --network regtest --datadir "$work/fresh" "${connect[@]}" --no-server --no-printtoconsole --backend "$backend" \
            --threads "$threads" >/dev/null 2>&1 &
        fresh=$!
        pids+=("$fresh")
        # The node logs the moment its tip reaches the chain's end (the status file is only
        # rewritten every second, too coarse to time by).
        until grep -q "new tip: height $height " "$work/fresh/regtest/debug.log" 2>/dev/null; do
            kill -0 "$fresh" 2>/dev/null || { echo "the syncing node exited" >&2; tail -20 "$work/fresh/regtest/debug.log" >&2; exit 1; }
            sleep 0.02
        done
        reached=$(date -d "$(grep "new tip: height $height " "$work/fresh/regtest/debug.log" | head -1 | cut -d' ' -f1)" +%s.%N)
        seconds=$(echo "$reached - $start" | bc)
        rss=$(grep VmHWM "/proc/$fresh/status" | awk '{ print $2 }')
        stop_all
        got=$("$RUSTY" utxo-info --datadir "$work/fresh/regtest" --json | grep -o '"digest":"[0-9a-f]*"' | cut -d'"' -f4)
        [ "$got" = "$digest" ] || { echo "digest mismatch: $got" >&2; exit 1; }
        rate=$(echo "$height / $seconds" | bc -l)
        printf 'round %s: node from %s peer(s) %.2f s, %.1f blocks/s, %.3fx verify-chain, peak RSS %d MiB\n' \
            "$round" "$count" "$seconds" "$rate" "$(echo "$rate / $verify_rate" | bc -l)" $((rss / 1024))
    done
done
