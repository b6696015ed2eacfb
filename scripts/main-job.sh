#!/usr/bin/env bash
# The main job on embedded defaults: a release build; the device summary; mine a short
# regtest chain with the best device (OpenCL GPUs plus CPU, else CPU SIMD); then generate a
# realistic chain and bulk-verify it into a RocksDB chain state, checking that the UTXO
# digest equals the generator's.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build -c release --product rusty
rusty=.build/release/rusty
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$rusty" devices
echo
echo "== mining 20 regtest blocks (backend auto) =="
"$rusty" mine --network regtest --datadir "$work/mined" --blocks 20 --key "$(printf '11%.0s' {1..32})"
echo
echo "== generating a 400-block regtest chain (40 transactions per block) =="
"$rusty" gen-chain --network regtest --blocks 400 --txs-per-block 40 --seed 1 --out "$work/chain.blk" | tee "$work/gen.txt"
echo
echo "== bulk verification =="
"$rusty" verify-chain "$work/chain.blk" --datadir "$work/verified" | tee "$work/verify.txt"
expected=$(sed -n 's/^expected UTXO digest: //p' "$work/gen.txt")
if grep -q "digest $expected" "$work/verify.txt"; then
  echo "UTXO digest matches the generator's: $expected"
else
  echo "UTXO digest differs from the generator's ($expected)" >&2
  exit 1
fi
