/// The signed messages of one kind seen from each member. Two different versions from one
/// sender are kept as equivocation evidence; more are not stored (two prove it already), so a
/// flooding sender costs bounded memory.
struct MessageLog<Message: DKGMessage> {
    private(set) var versions: [UInt16: [Message]] = [:]

    /// Returns false for a duplicate of a stored version (a relay), true for anything new.
    @discardableResult
    mutating func record(_ message: Message) -> Bool {
        let stored = versions[message.sender, default: []]
        guard !stored.contains(message), stored.count < 2 else { return false }
        versions[message.sender] = stored + [message]
        return true
    }

    /// The one message from `sender`, or nil when it sent none or equivocated.
    func single(from sender: UInt16) -> Message? {
        guard let stored = versions[sender], stored.count == 1 else { return nil }
        return stored[0]
    }

    /// The evidence against `sender`, ordered by encoding so every observer builds the same value.
    func equivocation(of sender: UInt16) -> DKGEquivocation? {
        guard let stored = versions[sender], stored.count >= 2 else { return nil }
        let encodings = stored.map(\.encoded).sorted { $0.lexicographicallyPrecedes($1) }
        return DKGEquivocation(sender: sender, messageName: Message.name, first: encodings[0], second: encodings[1])
    }

    var senders: [UInt16] { versions.keys.sorted() }
}
