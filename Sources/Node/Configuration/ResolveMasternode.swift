// `--masternode`, `--operator-key-file` and the hidden relay delay (DESIGN 10): the node
// runs as a masternode only with a key file to prove it.

extension NodeConfiguration {
    /// This node as a masternode (off by default).
    public struct MasternodeConfiguration: Sendable, Equatable {
        public var enabled = false
        /// The operator key file (`rusty masternode keygen --out F`); an absolute path.
        public var operatorKeyFile: String?
        /// Milliseconds between a new block's announcement to authenticated masternode peers
        /// and to the others (hidden; tests make it large so the order is measurable).
        public var relayDelayMilliseconds = 50
        public init() {}
    }

    static let masternodeRelayDelayRange = 0...60_000

    static func resolveMasternode(_ configuration: inout NodeConfiguration, _ settings: Settings, currentDirectory: String) throws {
        var masternode = MasternodeConfiguration()
        masternode.enabled = try settings.boolean("masternode") ?? false
        if let path = try settings.path("operatorkeyfile") {
            masternode.operatorKeyFile = path.hasPrefix("/") ? path : currentDirectory + "/" + path
        }
        masternode.relayDelayMilliseconds = try settings.integer("masternoderelaydelay", masternodeRelayDelayRange)
            ?? masternode.relayDelayMilliseconds
        if masternode.enabled && masternode.operatorKeyFile == nil {
            throw NodeConfigurationError(.flag, "masternode needs operatorkeyfile (--operator-key-file F): the operator keys "
                                         + "(rusty masternode keygen --out F)")
        }
        configuration.masternode = masternode
    }
}
