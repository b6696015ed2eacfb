import Bench
import Foundation
import Testing
import TestSupport

/// `rusty bench mempool` at a tiny size: every payment accepted on each backend, the figures
/// and the counts they name agree, bad arguments are refused.
struct MempoolBenchTests {
    @Test("a tiny run: acceptance per backend with ratios and the signature share, a template holding the whole pool")
    func tinyRun() throws {
        let result = try runProcess(TestPaths.rustyExecutable, ["bench", "mempool", "--tiny", "--json", "--transactions", "40",
                                                                "--backend", "scalar,simd", "--devices", "none"])
        #expect(result.status == 0, "\(result.stderrText)")
        let document = try BenchDocument.decode(result.stdout)
        #expect(document.sections.map(\.name) == ["mempool"])
        let figures = try #require(document.sections.first?.figures)
        let acceptance = figures.filter { $0.name == "acceptance, simple payments" }
        let scalar = try #require(acceptance.first { $0.backend == "scalar" })
        #expect(scalar.unit == "transactions/s" && scalar.median > 0 && scalar.runs == 2)
        // Per core is the rate over the machine's cores.
        let perCore = try #require(figures.first { $0.name == "acceptance, simple payments, per core" && $0.backend == "scalar" })
        #expect(abs(perCore.median * Double(document.machine.cores) - scalar.median) <= scalar.median * 1e-9)
        for share in figures where share.unit == "%" {
            #expect(share.median > 0 && share.max <= 100, "\(share.backend): \(share.median)%")
            #expect(share.ratioToScalar == nil)
        }
        #expect(figures.filter { $0.unit == "%" }.count == acceptance.count)
        if document.machine.ed25519Backend != "scalar" {
            let simd = try #require(acceptance.first { $0.backend != "scalar" })
            #expect(simd.ratioToScalar != nil && simd.backend.hasPrefix(document.machine.ed25519Backend))
        }
        // 40 payments in chains of 4 are far below a block: the template takes every one.
        let template = try #require(figures.first { $0.name.hasPrefix("getblocktemplate") })
        #expect(template.name == "getblocktemplate, 40-transaction pool (chains of 4), 40 selected")
        #expect(template.unit == "ms" && template.median > 0)
    }

    @Test("bad arguments: --transactions 0 and an unknown section are usage errors naming them")
    func badArguments() throws {
        let zero = try runProcess(TestPaths.rustyExecutable, ["bench", "mempool", "--tiny", "--transactions", "0"])
        #expect(zero.status == 64 && zero.stderrText.contains("--transactions"), "\(zero.stderrText)")
        let unknown = try runProcess(TestPaths.rustyExecutable, ["bench", "mempools", "--tiny"])
        #expect(unknown.status == 64 && unknown.stderrText.contains("'mempools'"), "\(unknown.stderrText)")
    }
}
