// Consensus: what makes a block or transaction valid, as pure functions of their inputs.
// It owns the rules (context-free, header, and contextual against a `UTXOView`), their
// names (`RuleName`) and rejections, FerrisScript and the sighash, ASERT difficulty, the
// subsidy, and `Coin` with its encoding. It must not store anything, do I/O, start threads
// or keep state between calls: callers (the chain state, later the mempool) supply the
// coins through a view and apply the results; the rules only read and decide.
