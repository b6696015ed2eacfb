import ChainParams
import Primitives

/// The masternode numbers of a network (Config/NETWORK.json `masternodes`), checked once.
public struct MasternodeParameters: Sendable, Equatable {
    /// The exact value a collateral output must hold.
    public var collateral: Amount
    public var registrationMaturity: UInt64
    public var listHistoryBlocks: UInt64
    public var penaltyMax: UInt32
    public var penaltyMissedCommitment: UInt32
    public var penaltyInvalidSignature: UInt32
    public var penaltyDecayPerBlock: UInt32

    public struct Missing: Error, CustomStringConvertible {
        public var field: String
        public var description: String { "chain parameters: masternodes.\(field) is missing or out of range" }
    }

    public init(collateral: Amount, registrationMaturity: UInt64, listHistoryBlocks: UInt64, penaltyMax: UInt32,
                penaltyMissedCommitment: UInt32, penaltyInvalidSignature: UInt32, penaltyDecayPerBlock: UInt32) {
        self.collateral = collateral
        self.registrationMaturity = registrationMaturity
        self.listHistoryBlocks = listHistoryBlocks
        self.penaltyMax = penaltyMax
        self.penaltyMissedCommitment = penaltyMissedCommitment
        self.penaltyInvalidSignature = penaltyInvalidSignature
        self.penaltyDecayPerBlock = penaltyDecayPerBlock
    }

    public init(_ chain: ChainParameters) throws {
        let m = chain.masternodes
        guard let units = m.collateralBaseUnits, units > 0, let collateral = Amount(baseUnits: units) else { throw Missing(field: "collateralBaseUnits") }
        guard let maturity = m.registrationMaturity else { throw Missing(field: "registrationMaturity") }
        guard let history = m.listHistoryBlocks, history > 0 else { throw Missing(field: "listHistoryBlocks") }
        guard let max = m.posePenaltyMax, max > 0 else { throw Missing(field: "posePenaltyMax") }
        guard let missed = m.posePenaltyMissedCommitment else { throw Missing(field: "posePenaltyMissedCommitment") }
        guard let invalid = m.posePenaltyInvalidSignature else { throw Missing(field: "posePenaltyInvalidSignature") }
        guard let decay = m.posePenaltyDecayPerBlock else { throw Missing(field: "posePenaltyDecayPerBlock") }
        self.init(collateral: collateral, registrationMaturity: maturity, listHistoryBlocks: history, penaltyMax: max,
                  penaltyMissedCommitment: missed, penaltyInvalidSignature: invalid, penaltyDecayPerBlock: decay)
    }
}
