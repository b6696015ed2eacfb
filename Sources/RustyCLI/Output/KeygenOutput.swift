/// `rusty sig keygen --json`: the seed and the public key, in hex. The command writes this
/// document itself into a buffer it wipes afterwards (an encoder would leave copies of the
/// secret seed's hex in memory it cannot wipe); the type is the format's one definition,
/// for readers and the round-trip test.
struct KeygenOutput: Codable, Equatable {
    var seed: String
    var pk: String
}
