import ArgumentParser
import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import OpenCLRuntime
import Primitives
import SignatureBackends

func consensusParameters(_ network: String) throws -> ConsensusParameters {
    do {
        return try ConsensusParameters(ChainParameters.builtIn(network))
    } catch {
        throw ValidationError("\(error)")
    }
}

/// A progress line on standard error, only when it is a terminal, at most a few times a second.
final class ProgressLine {
    private let enabled = isTerminal(2)
    private var last = DispatchTime.now().uptimeNanoseconds
    private var shown = false

    func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now - last > 250_000_000 else { return }
        last = now
        shown = true
        printErrorNoNewline("\r\u{1B}[K" + text())
    }

    func finish() {
        if enabled && shown { printErrorNoNewline("\r\u{1B}[K") }
    }
}

func printErrorNoNewline(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

