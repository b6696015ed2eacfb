/// `rusty.conf` as bitcoind reads `bitcoin.conf`: `key=value` lines, `#` starting a comment
/// (also after a value), blank lines, a key repeated for a list, and `[main]`, `[test]`,
/// `[regtest]` sections whose keys apply only to that network. Only the syntax is checked
/// here; keys and values are checked by `NodeConfiguration.resolve`, which knows them.
struct ConfigFile: Equatable {
    struct Entry: Equatable {
        var key: String
        var value: String
        var line: Int
    }

    /// The path as shown in messages.
    let path: String
    /// Keys before the first section header: they apply to every network.
    var top: [Entry] = []
    /// Section name (`main`, `test`, `regtest`) -> its keys.
    var sections: [String: [Entry]] = [:]

    static let sectionNames = NodeConfiguration.Network.allCases.map(\.sectionName)

    init(path: String) { self.path = path }

    static func parse(_ text: String, path: String) throws -> ConfigFile {
        var file = ConfigFile(path: path)
        var section: String?
        // Split on "\n" only (a "\r\n" file keeps its "\r", trimmed below with the other whitespace).
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingWhitespace
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]") else {
                    throw NodeConfigurationError(.file, "\(path):\(number): a section header must end with ']': '\(trimmed)'")
                }
                let name = String(trimmed.dropFirst().dropLast()).trimmingWhitespace
                guard sectionNames.contains(name) else {
                    throw NodeConfigurationError(.file, "\(path):\(number): unknown section '[\(name)]' (known: \(sectionNames.map { "[\($0)]" }.joined(separator: ", ")))")
                }
                section = name
                continue
            }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw NodeConfigurationError(.file, "\(path):\(number): expected key=value, found '\(trimmed)'")
            }
            let key = String(trimmed[..<equals]).trimmingWhitespace
            let value = String(trimmed[trimmed.index(after: equals)...]).trimmingWhitespace
            guard !key.isEmpty else { throw NodeConfigurationError(.file, "\(path):\(number): no key before '='") }
            let entry = Entry(key: key, value: value, line: number)
            if let section { file.sections[section, default: []].append(entry) } else { file.top.append(entry) }
        }
        return file
    }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[first...last])
        return String(result)
    }
}
