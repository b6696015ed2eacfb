import ArgumentParser
import ChainParams
import Consensus
import Foundation

/// The built-in parameters of `network`; an unknown name is a usage error.
func consensusParameters(_ network: String) throws -> ConsensusParameters {
    do {
        return try ConsensusParameters(ChainParameters.builtIn(network))
    } catch {
        throw ValidationError("\(error)")
    }
}
