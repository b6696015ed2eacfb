// The Verification module owns bulk verification of block streams into a `ChainState`: the
// staged pipeline (`VerificationPipeline`: read, context-free, UTXO + scripts, signatures,
// commit, joined by bounded queues), the block-by-block `SequentialVerifier`, and what both
// share so they cannot drift: `BlockSource` (every reader of block files and stored chains),
// `BlockOrder` (out-of-order blocks waiting for their parent, gaps) and `ReportAccumulator`
// (counters and stage timings). It decides nothing about validity itself (every rule is
// Consensus's, every state change ChainState's), writes nothing but through ChainState, and
// never prints or formats output (the commands do).
