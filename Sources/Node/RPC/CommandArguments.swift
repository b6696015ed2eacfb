import JSONRPC
import Masternodes
import Primitives

/// A subcommand-style call's positional arguments (`protx`, `gobject`), with errors naming the
/// command and the argument.
struct CommandArguments {
    let args: RPCArguments
    /// The method and subcommand, as errors name them ("protx register").
    let method: String

    func string(_ index: Int, _ name: String) throws(RPCError) -> String {
        guard let value = args[index] else { throw RPCError.invalidParameter("\(method): missing \(name)") }
        guard let text = value.stringValue else { throw RPCError.invalidParameter("\(method): \(name) must be a string") }
        return text
    }

    func optionalString(_ index: Int) throws(RPCError) -> String? {
        guard let value = args[index] else { return nil }
        guard let text = value.stringValue else { throw RPCError.invalidParameter("\(method): argument \(index + 1) must be a string") }
        return text
    }

    func hash(_ index: Int, _ name: String) throws(RPCError) -> Hash256 {
        let text = try string(index, name)
        guard let hash = Hash256(hex: text) else { throw RPCError.invalidParameter("\(method): \(name) '\(text.prefix(80))' is not 64 hex digits") }
        return hash
    }

    func key(_ index: Int, _ name: String) throws(RPCError) -> [UInt8] {
        let text = try string(index, name)
        guard let bytes = HexCoding.decode(text), bytes.count == SpecialPayloadCodec.keyLength else {
            throw RPCError.invalidParameter("\(method): \(name) '\(text.prefix(80))' is not a 32-byte key in hex")
        }
        return bytes
    }

    func service(_ index: Int, _ name: String) throws(RPCError) -> ServiceAddress {
        let text = try string(index, name)
        guard let service = ServiceAddress(text), service.isRoutableShape else {
            throw RPCError.invalidParameter("\(method): \(name) '\(text.prefix(80))' is not an address and port (\"1.2.3.4:29373\" or \"[::1]:29373\")")
        }
        return service
    }

    /// A non-negative integer given as a JSON number or as decimal text.
    func unsigned(_ index: Int, _ name: String) throws(RPCError) -> UInt64 {
        guard let value = args[index] else { throw RPCError.invalidParameter("\(method): missing \(name)") }
        let text = value.numberText ?? value.stringValue ?? ""
        guard let number = UInt64(text) else {
            throw RPCError.invalidParameter("\(method): \(name) '\(text.prefix(40))' is not a non-negative integer")
        }
        return number
    }
}
