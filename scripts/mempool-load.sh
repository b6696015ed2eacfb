#!/usr/bin/env bash
# Mempool acceptance through a running node's RPC (issue #15's tools): a regtest chain from
# `rusty gen-chain`, loaded by `rusty verify-chain` into a node's datadir, a `rusty node` on
# it, and `rusty gen-txs` payments sent as JSON-RPC batches of sendrawtransaction over
# keep-alive HTTP (curl). Reports transactions/s through RPC and the pool's size after, from
# getmempoolinfo (every transaction must be accepted: the script fails otherwise).
#
#   scripts/mempool-load.sh [--count 20000] [--chain-depth 1] [--batch 500] [--backend auto]
#
# Uses $RUSTY if set, otherwise builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."

count=20000; depth=1; batch=500; backend=auto
while [ $# -gt 0 ]; do
    case "$1" in
        --count) count="$2"; shift 2 ;;
        --chain-depth) depth="$2"; shift 2 ;;
        --batch) batch="$2"; shift 2 ;;
        --backend) backend="$2"; shift 2 ;;
        *) echo "mempool-load: unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [ -z "${RUSTY:-}" ]; then
    swift build -c release --product rusty >&2
    RUSTY="$(swift build -c release --show-bin-path)/rusty"
fi

work="${TMPDIR:-/tmp}/rusty-mempool-load"
rm -rf "$work"; mkdir -p "$work/regtest"
node_pid=""
cleanup() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

# Enough single-key coins: about 3 x txs-per-block once the fan-out after maturity is done.
per_block=$(( (count / depth) / 2 + 20 )); [ "$per_block" -gt 20000 ] && per_block=20000
chain=(--blocks 106 --txs-per-block "$per_block" --seed 7)
echo "mempool-load: chain ${chain[*]}, $count payments in chains of $depth" >&2
"$RUSTY" gen-chain "${chain[@]}" --out "$work/chain.blk" >/dev/null
"$RUSTY" verify-chain "$work/chain.blk" --datadir "$work/regtest" >/dev/null
"$RUSTY" gen-txs "${chain[@]}" --count "$count" --chain-depth "$depth" --out "$work/txs.hex" >/dev/null

port=29794
"$RUSTY" node --network regtest --datadir "$work" --no-listen --port 0 --rpcport "$port" --backend "$backend" \
    --no-printtoconsole &
node_pid=$!
for _ in $(seq 1 300); do [ -f "$work/regtest/.cookie" ] && break; sleep 0.1; done
auth=$(base64 -w0 < "$work/regtest/.cookie")
call() { curl -s -H "Authorization: Basic $auth" --data-binary "$1" "http://127.0.0.1:$port/"; }
"$RUSTY" rpc --datadir "$work" --regtest --rpcport "$port" --rpcwait --rpcwaittimeout 60 getblockcount >/dev/null

# One JSON-RPC batch per $batch lines, all in one curl invocation (one keep-alive connection).
split -l "$batch" -d -a 6 "$work/txs.hex" "$work/part."
for part in "$work"/part.*; do
    awk 'BEGIN { printf "[" } { printf "%s{\"method\":\"sendrawtransaction\",\"params\":[\"%s\"],\"id\":%d}", (NR > 1 ? "," : ""), $1, NR } END { print "]" }' \
        "$part" > "$part.json"
done
args=()
for body in "$work"/part.*.json; do args+=(--next -s -o "$body.out" -H "Authorization: Basic $auth" --data-binary "@$body" "http://127.0.0.1:$port/"); done
start=$(date +%s.%N)
curl "${args[@]:1}"
end=$(date +%s.%N)

errors=$(cat "$work"/part.*.out | grep -o '"error":{[^}]*}' | head -3 || true)
info=$(call '{"method":"getmempoolinfo","params":[],"id":1}')
size=$(echo "$info" | sed -n 's/.*"size":\([0-9]*\).*/\1/p')
rate=$(awk -v n="$count" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; signature backend $backend"
echo "sendrawtransaction: $count transactions in batches of $batch: $rate transactions/s; pool size $size"
if [ "$size" != "$count" ]; then
    echo "mempool-load: the pool holds $size of $count transactions; first errors: $errors" >&2
    exit 1
fi
