#!/usr/bin/env bash
# Stratum share processing under load (issue 16's goal: >= 5,000 shares/s validated from 50
# connections on loopback, p99 < 10 ms): a regtest node with the pool server, its share
# difficulty pinned at 0.5 (the share target is then twice the PoW limit, so half the hashes are
# shares that are not blocks; at 1 every share would also be a block on regtest), and
# `rusty bench stratum` with 50 simulated miners submitting real shares: first back to back
# (closed loop: the most shares/s the server validates), then at --rate shares/s in all (open
# loop: the latency at that load, which a closed loop cannot show: there the latency is just
# the shares in flight over the throughput). Prints the figures, the pool's own count
# (getstratuminfo) and the node's RSS.
#
#   scripts/stratum-load.sh [--connections 50] [--seconds 10] [--in-flight 1] [--rate 5000] [--threads 1] [--json]
#
# Uses $RUSTY if set, otherwise builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."

connections=50; seconds=10; in_flight=1; rate=5000; threads=1; json=""
while [ $# -gt 0 ]; do
    case "$1" in
        --connections) connections="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --in-flight) in_flight="$2"; shift 2 ;;
        --rate) rate="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --json) json="--json"; shift ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
. scripts/stratum-pool.sh
rpc_port=29892; stratum_port=23892
start_pool stratum-load 0.5 "$stratum_port" "$rpc_port"
rpc() { "$RUSTY" rpc --regtest --datadir "$work" --rpcport "$rpc_port" "$@"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$node_pid/status"; }

[ -z "$json" ] && echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
[ -z "$json" ] && echo "node RSS before: $(rss) KiB"
for loop_rate in 0 "$rate"; do
    "$RUSTY" bench stratum --url "stratum+tcp://127.0.0.1:$stratum_port" --user "$address.load" --connections "$connections" \
        --seconds "$seconds" --in-flight "$in_flight" --rate "$loop_rate" --threads "$threads" $json
done
if [ -z "$json" ]; then
    echo "node RSS after: $(rss) KiB"
    # The server's own count of what it validated (the whole run, warm-up included).
    rpc getstratuminfo | python3 -c 'import json, sys
info = json.load(sys.stdin)
totals = info["totals"]
rejected = {kind: count for kind, count in totals["rejected"].items() if count}
print("pool: accepted %d shares, rejected %s, blocks %d, connections %d" % (totals["accepted"], rejected or "none", totals["blocks"], info["connections"]))'
fi
