import Ed25519

/// Repairable threshold scheme (RTS), as ZF frost-core's `repairable` module: at least
/// minSigners helpers rebuild a lost participant's share without revealing their own.
///   1. Each helper i splits [zeta_i s_i] (zeta_i its Lagrange coefficient at the lost
///      identifier) into one random delta per helper, and sends delta_ij to helper j.
///   2. Each helper j sums what it received into sigma_j and sends it to the lost participant.
///   3. The lost participant sums the sigmas: sum_i zeta_i s_i = f(lost).
public enum ShareRepair {
    public typealias Scalar = Ed25519.Scalar

    /// Step 1 for helper `share.identifier`: the delta for every helper, random values from
    /// the OS CSPRNG.
    public static func deltas(helpers: [Identifier], share: SecretShare, lost: Identifier) throws -> [Identifier: Scalar] {
        let randomValues = (0..<max(0, helpers.count - 1)).map { _ in Scalar.random() }
        return try deltas(helpers: helpers, share: share, lost: lost, randomValues: randomValues)
    }

    /// Step 1 with its random values given (helpers.count - 1 of them); the last helper gets
    /// what makes the deltas sum to zeta_i s_i.
    static func deltas(helpers: [Identifier], share: SecretShare, lost: Identifier,
                       randomValues: [Scalar]) throws -> [Identifier: Scalar] {
        guard helpers.count >= max(2, share.commitment.coefficients.count), !helpers.contains(lost),
              helpers.contains(share.identifier), randomValues.count == helpers.count - 1 else {
            throw FROSTError.invalidRepairHelpers
        }
        let zeta = try Polynomial.lagrangeCoefficient(for: share.identifier, in: helpers, at: lost.scalar)
        var remaining = zeta * share.signingShare
        var out = [Identifier: Scalar]()
        for (helper, value) in zip(helpers, randomValues) {
            out[helper] = value
            remaining = remaining - value
        }
        if let last = helpers.last { out[last] = remaining }
        return out
    }

    /// Step 2: helper j's sigma, the sum of the deltas it received.
    public static func sigma(deltas: [Scalar]) -> Scalar { deltas.reduce(.zero, +) }

    /// Step 3: the lost participant's share, checked against the group's commitment.
    public static func repairedShare(sigmas: [Scalar], identifier: Identifier, commitment: VSSCommitment) throws -> SecretShare {
        let share = unverifiedRepairedShare(sigmas: sigmas, identifier: identifier, commitment: commitment)
        try share.verify()
        return share
    }

    /// Step 3 without the check (ZF's repair_share_step_3; its vectors sum unrelated sigmas).
    static func unverifiedRepairedShare(sigmas: [Scalar], identifier: Identifier, commitment: VSSCommitment) -> SecretShare {
        SecretShare(identifier: identifier, signingShare: sigmas.reduce(.zero, +), commitment: commitment)
    }
}
