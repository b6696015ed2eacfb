#!/usr/bin/env bash
# RPC throughput and latency under load (docs/PERFORMANCE.md, "RPC"): a regtest node with a
# 200-block chain, and wrk (Debian's) posting getblockchaininfo, then getblockheader of the
# tip, over 16 keep-alive connections. Reports requests/s, p50/p99 latency, errors (non-2xx
# answers and socket errors), and the node's RSS before and after.
#
#   scripts/rpc-load.sh [--duration 20] [--connections 16] [--threads 2]
#
# Uses $RUSTY if set, otherwise builds the release binary. Installs wrk if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=20; connections=16; threads=2
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [ -z "${RUSTY:-}" ]; then
    swift build -c release --product rusty >&2
    RUSTY="$(swift build -c release --show-bin-path)/rusty"
fi

work="${TMPDIR:-/tmp}/rusty-rpc-load"
rm -rf "$work"; mkdir -p "$work"
node_pid=""
cleanup() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

"$RUSTY" mine --network regtest --datadir "$work/regtest" --blocks 200 --backend scalar --cpu-threads 1 >/dev/null 2>&1
port=29792
"$RUSTY" node --network regtest --datadir "$work" --no-listen --port 0 --rpcport "$port" --no-printtoconsole &
node_pid=$!
for _ in $(seq 1 100); do [ -f "$work/regtest/.cookie" ] && break; sleep 0.1; done
auth=$(base64 -w0 < "$work/regtest/.cookie")
rss() { awk '/VmRSS/ {print $2}' "/proc/$node_pid/status"; }
call() { curl -s -H "Authorization: Basic $auth" -d "$1" "http://127.0.0.1:$port/"; }
tip=$(call '{"method":"getbestblockhash","id":1}' | sed -n 's/.*"result":"\([0-9a-f]*\)".*/\1/p')
[ -n "$tip" ] || { echo "rpc-load: the node does not answer getbestblockhash" >&2; exit 1; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; wrk -t$threads -c$connections -d${duration}s"
echo "node RSS before: $(rss) KiB"
for request in '{"method":"getblockchaininfo","params":[],"id":1}' "{\"method\":\"getblockheader\",\"params\":[\"$tip\"],\"id\":1}"; do
    method=$(echo "$request" | sed -n 's/.*"method":"\([a-z]*\)".*/\1/p')
    cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$request'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic $auth"
LUA
    out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$work/post.lua" "http://127.0.0.1:$port/")
    rps=$(echo "$out" | sed -n 's/^Requests\/sec: *//p')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    non2xx=$(echo "$out" | sed -n 's/.*Non-2xx or 3xx responses: *//p')
    socket=$(echo "$out" | sed -n 's/.*Socket errors: *//p')
    echo "$method: $rps requests/s, p50 $p50, p99 $p99, non-2xx ${non2xx:-0}, socket errors: ${socket:-none}"
done
echo "node RSS after: $(rss) KiB"
