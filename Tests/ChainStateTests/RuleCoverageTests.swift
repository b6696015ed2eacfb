import Consensus
import Foundation
import Testing

/// Every rule name has a rejection test: `RuleName`, the names in PROTOCOL section 10 (and
/// the script rule list of section 9), the rules the sources can throw, and the rules the
/// rejection tests expect must agree. A new rule without a test, or without a line in the
/// spec, fails here.
struct RuleCoverageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func read(_ path: String) throws -> String { try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }

    static func swiftFiles(under folder: String) throws -> [String] {
        let base = root.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted().map { "\(folder)/\($0)" }
    }

    static func matches(_ pattern: String, in text: String, group: Int = 1) throws -> [String] {
        let regex = try NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: group), in: text).map { String(text[$0]) }
        }
    }

    /// Rule names in the first column of section 10's tables, and in section 9's script-rule list.
    static func specifiedRules() throws -> (block: Set<String>, script: Set<String>) {
        let spec = try read("docs/PROTOCOL.md")
        func section(_ number: Int) throws -> String {
            let start = try #require(spec.range(of: "\n## \(number). "))
            let end = spec.range(of: "\n## \(number + 1). ", range: start.upperBound..<spec.endIndex)?.lowerBound ?? spec.endIndex
            return String(spec[start.upperBound..<end])
        }
        var block = Set<String>()
        for line in try section(10).split(separator: "\n") where line.hasPrefix("| `") {
            let firstColumn = String(line.dropFirst(2).prefix { $0 != "|" })
            block.formUnion(try matches("`([a-z0-9-]+)`", in: firstColumn))
        }
        var script = Set<String>()
        for line in try section(9).split(separator: "\n") where line.hasPrefix("| `script-") {
            script.formUnion(try matches("`(script-[a-z0-9-]+)`", in: String(line.dropFirst(2).prefix { $0 != "|" })))
        }
        return (block, script)
    }

    /// `RuleName` case names (as the sources spell them) to rule names.
    static let ruleByCase = Dictionary(uniqueKeysWithValues: RuleName.allCases.map { (String(describing: $0), $0.rawValue) })

    @Test("RuleName is exactly the rule list of PROTOCOL sections 9-10, every rule is thrown and has a rejection test, and no other source spells a rule name")
    func everyRuleHasARejectionTest() throws {
        let (specBlock, specScript) = try Self.specifiedRules()
        #expect(specBlock.count >= 30, "section 10 parsed: \(specBlock.sorted())")
        #expect(specScript.count >= 20, "section 9 parsed: \(specScript.sorted())")
        #expect(!specBlock.contains { $0.hasPrefix("script-") && $0 != "script-signature" }, "script rules belong in section 9's table")

        // The enum and the spec, both ways.
        let enumRules = Set(RuleName.allCases.map(\.rawValue))
        let specRules = specBlock.union(specScript)
        #expect(enumRules.subtracting(specRules).isEmpty, "in RuleName but not in PROTOCOL: \(enumRules.subtracting(specRules).sorted())")
        #expect(specRules.subtracting(enumRules).isEmpty, "in PROTOCOL but not in RuleName: \(specRules.subtracting(enumRules).sorted())")
        #expect(Self.ruleByCase.count == RuleName.allCases.count)

        // What the sources can reject with: Rejection(.name ...) and ScriptError.rule.
        var sourceBlock = Set<String>()
        var literals = [String]()
        for file in try Self.swiftFiles(under: "Sources") where !file.hasSuffix("/RuleName.swift") {
            let text = try Self.read(file)
            sourceBlock.formUnion(try Self.matches(#"Rejection\(\.([A-Za-z]+)"#, in: text).compactMap { Self.ruleByCase[$0] })
            // No string literal names a rule outside RuleName.
            literals += try Self.matches(#""([a-z0-9-]+)""#, in: text).filter(enumRules.contains).map { "\(file): \($0)" }
        }
        #expect(literals.isEmpty, "rule names spelled as strings: \(literals)")
        let scriptErrors = try Self.read("Sources/Consensus/Script/ScriptError.swift")
        let caseToRule = try Self.matches(#"case \.[A-Za-z]+: return \.[A-Za-z]+"#, in: scriptErrors, group: 0).map { line in
            let names = try Self.matches(#"\.([A-Za-z]+)"#, in: line)
            return (names[0], Self.ruleByCase[names[1]] ?? "unknown case \(names[1])")
        }
        let sourceScript = Set(caseToRule.map(\.1))
        #expect(sourceScript.count >= 20, "ScriptError.rule parsed: \(sourceScript.sorted())")
        #expect(specScript == sourceScript, "section 9 script rules vs ScriptError.rule: missing \(sourceScript.subtracting(specScript).sorted()), extra \(specScript.subtracting(sourceScript).sorted())")
        // Every other rule is thrown somewhere (script-signature is a block-level rule raised from the batch).
        #expect(specBlock.subtracting(sourceBlock).isEmpty, "in PROTOCOL section 10 but never thrown: \(specBlock.subtracting(sourceBlock).sorted())")
        #expect(sourceBlock.subtracting(sourceScript).subtracting(specBlock).isEmpty,
                "thrown but not in PROTOCOL section 10: \(sourceBlock.subtracting(sourceScript).subtracting(specBlock).sorted())")

        // Each block rule is the expectation of a rejection test: a rule argument of an
        // expectRejected/expectRule call (their helpers compare it with the rejection's rule),
        // an expected Rejection, or the CLI's "rejected: NAME".
        var testText = ""
        for file in ["Tests/ChainStateTests/RuleTests.swift", "Tests/ConsensusTests/ContextualRuleTests.swift", "Tests/ConsensusTests/HeaderRuleTests.swift",
                     "Tests/RustyCLITests/ScriptNumberCrashTests.swift", "Tests/RustyCLITests/VerifyPipelineCommandTests.swift",
                     "Tests/MasternodeTests/MasternodeRuleTests.swift", "Tests/QuorumTests/QuorumRuleTests.swift",
                     "Tests/GovernanceTests/GovernanceRuleTests.swift", "Tests/GovernanceTests/GovernanceCodecTests.swift"] {
            testText += try Self.read(file)
        }
        let argument = #"[(,]\s*\.([a-z][A-Za-z]+)\s*(?=[,)])"#
        var expectedCases = try Self.matches(#"\},\s*\.([a-z][A-Za-z]+)\s*[,)]"#, in: testText)
            + Self.matches(#"throws: Rejection\(\.([a-z][A-Za-z]+)"#, in: testText)
        for line in testText.split(separator: "\n") where line.contains("expectRejected(") || line.contains("expectRule(") {
            expectedCases += try Self.matches(argument, in: String(line))
        }
        let expectedInTests = Set(try expectedCases.compactMap { Self.ruleByCase[$0] } + Self.matches(#"rejected: ([a-z0-9-]+)"#, in: testText))
        for rule in specBlock.union(sourceBlock.subtracting(sourceScript)).sorted() {
            #expect(expectedInTests.contains(rule), "no rejection test expects \(rule)")
        }
        // Each script rule is the expectation of a script test (by its ScriptError case).
        var scriptTests = ""
        for file in try Self.swiftFiles(under: "Tests/ConsensusTests") { scriptTests += try Self.read(file) }
        for (name, rule) in caseToRule {
            let expected = try Self.matches(#"(?:throws: ScriptError\.|\.failed\(\.)([A-Za-z]+)"#, in: scriptTests)
            #expect(expected.contains(name), "no script test expects ScriptError.\(name) (\(rule))")
        }
    }
}
