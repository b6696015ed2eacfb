#!/usr/bin/env bash
# Chain-lock latency on a loopback regtest network (issue #18's goal): seven masternodes and
# a mining node (real `rusty node` processes) form the llmq_test quorum, then ROUNDS blocks
# are mined one at a time; for every node and block, the time from the block becoming the
# node's tip to the node accepting its chain lock (both from the node's own debug.log).
# Prints the median and p90 over all of them, with the machine and its load.
#
#   scripts/quorum-latency.sh              # 20 rounds
#   ROUNDS=50 scripts/quorum-latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-20}

nice -n 10 swift build --build-tests >&2
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
QUORUM_LATENCY_ROUNDS=$ROUNDS swift test --skip-build --filter QuorumNetworkTests.testChainLockLatency 2>&1 \
    | grep -E "chain-lock latency|quorum network:|error:" || { echo "the latency run failed" >&2; exit 1; }
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
