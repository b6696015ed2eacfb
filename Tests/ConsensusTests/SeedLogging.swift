import TestSupport

extension SeededGenerator {
    /// The generator of a random or property test, printing its seed so a failure can be
    /// replayed: `SEED <test> <seed>` in the test output.
    static func logged(_ seed: UInt64, _ test: String = #function) -> SeededGenerator {
        print("SEED \(test) \(seed)")
        return SeededGenerator(seed: seed)
    }
}
