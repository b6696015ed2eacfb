// Who may call: the cookie (a random password in a 0600 file, bitcoind's default), a fixed
// rpcuser/rpcpassword, or rpcauth lines (user:salt$hmac, so the password is not in the config).

import Crypto
import Foundation
import Primitives
#if canImport(Glibc)
import Glibc
#endif

public struct RPCCredentials: Sendable {
    public enum Entry: Sendable {
        case password(user: String, password: String)
        /// `USER:SALT$HASH`, HASH = hex(HMAC-SHA256(key: SALT, message: password)) (bitcoind's rpcauth).
        case salted(user: String, salt: String, hash: [UInt8])
    }

    public var entries: [Entry]

    public init(entries: [Entry] = []) { self.entries = entries }

    public var isEmpty: Bool { entries.isEmpty }

    /// Parses one `rpcauth` value.
    public static func parseRPCAuth(_ text: String) throws -> Entry {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { throw RPCAuthError("rpcauth '\(text)': expected USER:SALT$HASH") }
        let saltAndHash = parts[1].split(separator: "$", maxSplits: 1).map(String.init)
        guard saltAndHash.count == 2, !saltAndHash[0].isEmpty, let hash = HexCoding.decode(saltAndHash[1]), hash.count == 32 else {
            throw RPCAuthError("rpcauth '\(parts[0]):...': expected SALT$HASH with a 64-hex-digit HMAC-SHA256")
        }
        return .salted(user: parts[0], salt: saltAndHash[0], hash: hash)
    }

    /// Whether an `Authorization` header's value grants access (constant time per entry).
    public func accepts(authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Basic ") else { return false }
        guard let decoded = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8),
              let colon = text.firstIndex(of: ":") else { return false }
        let user = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        var granted = false
        for entry in entries {
            switch entry {
            case let .password(expectedUser, expectedPassword):
                // Evaluate both comparisons every time: the answer's timing says nothing about which half differed.
                let userMatches = Self.constantTimeEqual(Array(user.utf8), Array(expectedUser.utf8))
                let passwordMatches = Self.constantTimeEqual(Array(password.utf8), Array(expectedPassword.utf8))
                if userMatches && passwordMatches { granted = true }
            case let .salted(expectedUser, salt, hash):
                let mac = HMAC<SHA256>.authenticationCode(for: Array(password.utf8), using: SymmetricKey(data: Array(salt.utf8)))
                let userMatches = Self.constantTimeEqual(Array(user.utf8), Array(expectedUser.utf8))
                let hashMatches = Self.constantTimeEqual(Array(mac), hash)
                if userMatches && hashMatches { granted = true }
            }
        }
        return granted
    }

    /// Compares SHA-256 digests, so neither the position of the first difference nor a
    /// difference in length shows in the time taken.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let left = Array(SHA256.hash(data: a)), right = Array(SHA256.hash(data: b))
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}

public struct RPCAuthError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The `.cookie` file: `__cookie__:<64 hex>` (bitcoind's format), readable by its owner only,
/// written at start-up and removed at shutdown (clients read it with `RPCClient.readCookie`).
public enum RPCCookie {
    public static let user = "__cookie__"

    /// Writes a fresh cookie at `path` (atomically, mode 0600) and returns its credentials.
    public static func write(to path: String) throws -> RPCCredentials.Entry {
        var random = SystemRandomNumberGenerator()
        let password = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        let temporary = path + ".tmp"
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw RPCAuthError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array("\(user):\(password)".utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw RPCAuthError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return .password(user: user, password: password)
    }

    public static func remove(at path: String) { unlink(path) }
}
