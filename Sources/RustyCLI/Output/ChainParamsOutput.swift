import ChainParams
import Primitives

/// `rusty chain-params --json`: the parameters' own JSON fields, flattened, plus the genesis
/// block and the PoW limit worked out from them.
struct ChainParamsOutput: Codable, Equatable {
    var parameters: ChainParameters
    var genesisBlockHex: String
    var genesisMerkleRoot: String
    /// The expanded PoW limit; empty when powLimitBits is not a valid target.
    var powLimitTarget: String

    private enum CodingKeys: String, CodingKey {
        case genesisBlockHex, genesisMerkleRoot, powLimitTarget
    }

    init(_ parameters: ChainParameters) {
        let genesis = parameters.genesisBlock()
        self.parameters = parameters
        genesisBlockHex = HexCoding.encode(genesis.encoded)
        genesisMerkleRoot = genesis.header.merkleRoot.hex
        powLimitTarget = (try? parameters.powLimit.target().hex) ?? ""
    }

    // The parameters share the top-level object with the derived fields (no nesting), as
    // the parameter files themselves are laid out.
    init(from decoder: Decoder) throws {
        parameters = try ChainParameters(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        genesisBlockHex = try container.decode(String.self, forKey: .genesisBlockHex)
        genesisMerkleRoot = try container.decode(String.self, forKey: .genesisMerkleRoot)
        powLimitTarget = try container.decode(String.self, forKey: .powLimitTarget)
    }

    func encode(to encoder: Encoder) throws {
        try parameters.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(genesisBlockHex, forKey: .genesisBlockHex)
        try container.encode(genesisMerkleRoot, forKey: .genesisMerkleRoot)
        try container.encode(powLimitTarget, forKey: .powLimitTarget)
    }
}
