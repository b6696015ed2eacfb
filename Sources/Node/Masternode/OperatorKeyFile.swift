// Loading `--operator-key-file` at startup: a missing or malformed file stops the node with
// the file and the problem named; a file others can read is used, with a warning.

import Foundation
import Masternodes

public enum OperatorKeyFile {
    /// The keys in `path`, and a warning when the file's mode lets anyone but its owner in.
    public static func load(_ path: String) throws -> (keys: OperatorKeys, warning: String?) {
        let keys = try OperatorKeys.load(path: path)
        var warning: String?
        if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber,
           mode.intValue & 0o077 != 0 {
            warning = "operator key file \(path) has mode \(String(mode.intValue & 0o777, radix: 8)): other users may read the "
                + "operator's secret keys; chmod 600 \(path)"
        }
        return (keys, warning)
    }
}
