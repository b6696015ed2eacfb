import Foundation
import Primitives
import Ed25519

/// One line of the verify-batch JSONL format: public key, signature and message, in hex.
/// `gen-chain --signatures` writes it and `sig verify-batch` reads it.
struct SignatureLine: Codable, Equatable {
    var pk: String?
    var sig: String?
    var msg: String?

    init(_ item: SignatureItem) {
        pk = HexCoding.encode(item.publicKey)
        sig = HexCoding.encode(item.signature)
        msg = HexCoding.encode(item.message)
    }

    /// A field that is not a string reads as missing (the error then names the field)
    /// rather than failing the whole line as "not a JSON object".
    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        pk = try? container.decode(String.self, forKey: .pk)
        sig = try? container.decode(String.self, forKey: .sig)
        msg = try? container.decode(String.self, forKey: .msg)
    }
}
