# Sourced by scripts/stratum-load.sh and scripts/stratum-efficiency.sh: the release `rusty`
# ($RUSTY if set), and `start_pool NAME DIFFICULTY STRATUM_PORT RPC_PORT`, which starts a regtest
# node in ${TMPDIR:-/tmp}/rusty-NAME with the Stratum pool server on 127.0.0.1:STRATUM_PORT,
# its share difficulty pinned at DIFFICULTY, paying an address of a wallet of its own. It sets
# `work`, `address` and `node_pid`, stops the node on exit, and returns once the pool listens.

if [ -z "${RUSTY:-}" ]; then
    swift build -c release --product rusty >&2
    RUSTY="$(swift build -c release --show-bin-path)/rusty"
fi
node_pid=""
stop_pool() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap stop_pool EXIT

start_pool() {
    local name="$1" difficulty="$2" stratum_port="$3" rpc_port="$4"
    work="${TMPDIR:-/tmp}/rusty-$name"
    rm -rf "$work"; mkdir -p "$work"
    # Cheap key derivation: a regtest wallet that only receives.
    echo "$name passphrase" > "$work/passphrase"
    "$RUSTY" wallet create --datadir "$work" --network regtest --passphrase-file "$work/passphrase" --kdf-log-n 10 >/dev/null
    address=$("$RUSTY" wallet address --datadir "$work" --network regtest)
    "$RUSTY" node --network regtest --datadir "$work" --no-listen --port 0 --rpcport "$rpc_port" --no-printtoconsole \
        --stratum --stratumbind 127.0.0.1 --stratumport "$stratum_port" --stratumaddress "$address" \
        --stratumdifficulty "$difficulty" --stratummindifficulty "$difficulty" --stratummaxdifficulty "$difficulty" &
    node_pid=$!
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$stratum_port") 2>/dev/null && return 0
        kill -0 "$node_pid" 2>/dev/null || { echo "$name: the node exited" >&2; exit 1; }
        sleep 0.1
    done
    echo "$name: the pool does not listen on 127.0.0.1:$stratum_port after 20 s" >&2
    exit 1
}
