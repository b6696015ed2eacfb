import ChainParams

/// A quorum parameter of Config/NETWORK.json that cannot work, named.
public struct QuorumParameterError: Error, CustomStringConvertible, Equatable {
    public var quorumType: String
    public var problem: String
    public var description: String { "chain parameters: quorum type \(quorumType): \(problem)" }
}

/// One quorum type, checked (PROTOCOL section 17.1): sizes that can sign and a DKG whose
/// phases and mining window end before the next DKG of the type starts, so at most one
/// commitment of a type is ever minable and the list at its start height is still in the
/// chain state's exact history when it is mined.
public struct QuorumType: Sendable, Equatable {
    public let id: QuorumTypeID
    public let name: String
    public let size: Int
    public let threshold: Int
    public let schedule: QuorumSchedule
    public let activeCount: Int

    public init(id: QuorumTypeID, name: String, size: Int, threshold: Int, schedule: QuorumSchedule, activeCount: Int) throws {
        func fail(_ problem: String) -> QuorumParameterError { QuorumParameterError(quorumType: name.isEmpty ? "\(id.rawValue)" : name, problem: problem) }
        // Bitsets are one bit per member in CompactSize-counted bytes; 400 bounds a commitment to a few KB.
        guard size >= 2, size <= Self.maxSize else { throw fail("size \(size) is not in 2...\(Self.maxSize)") }
        // FROST and the DKG need two signers at least; a threshold above half the size means
        // two disjoint groups of members can never both sign different outcomes.
        guard threshold >= 2, threshold <= size else { throw fail("threshold \(threshold) is not in 2...size (\(size))") }
        guard 2 * threshold > size else { throw fail("threshold \(threshold) is not above half the size (\(size))") }
        guard activeCount >= 1 else { throw fail("activeCount must be at least 1") }
        self.id = id
        self.name = name
        self.size = size
        self.threshold = threshold
        self.schedule = schedule
        self.activeCount = activeCount
    }

    public static let maxSize = 400
}

/// The quorum types of a network and the one that signs chain locks.
public struct QuorumParameters: Sendable, Equatable {
    public let types: [QuorumTypeID: QuorumType]
    public let chainLockType: QuorumTypeID?

    public init(types: [QuorumType], chainLockType: QuorumTypeID?) throws {
        var byID = [QuorumTypeID: QuorumType]()
        for type in types {
            guard byID.updateValue(type, forKey: type.id) == nil else {
                throw QuorumParameterError(quorumType: type.name, problem: "id \(type.id.rawValue) is used twice")
            }
        }
        if let chainLockType, byID[chainLockType] == nil {
            throw QuorumParameterError(quorumType: "\(chainLockType.rawValue)", problem: "chainLockQuorumType names no quorum type")
        }
        self.types = byID
        self.chainLockType = chainLockType
    }

    /// The network's types from its parameters; none when the file has no `quorums`. Each
    /// DKG must fit in the blocks for which the masternode list is kept exactly
    /// (`masternodes.listHistoryBlocks`): its members come from the list at its start.
    public init(_ chain: ChainParameters) throws {
        let history = chain.masternodes.listHistoryBlocks ?? 0
        let types = try (chain.quorums ?? []).map { stated in
            let schedule = try QuorumSchedule(dkgInterval: stated.dkgInterval, phaseBlocks: stated.phaseBlocks,
                                              miningWindow: stated.miningWindow, typeName: stated.name)
            guard schedule.dkgInterval <= history else {
                throw QuorumParameterError(quorumType: stated.name, problem: "dkgInterval \(stated.dkgInterval) exceeds masternodes.listHistoryBlocks (\(history))")
            }
            return try QuorumType(id: QuorumTypeID(rawValue: stated.id), name: stated.name, size: stated.size, threshold: stated.threshold,
                                  schedule: schedule, activeCount: stated.activeCount)
        }
        try self.init(types: types, chainLockType: chain.chainLockQuorumType.map(QuorumTypeID.init(rawValue:)))
    }

    public subscript(id: QuorumTypeID) -> QuorumType? { types[id] }
    /// Types in id order (the order every per-block pass uses).
    public var sorted: [QuorumType] { types.values.sorted { $0.id < $1.id } }
}
