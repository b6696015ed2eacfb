import Primitives
import QuorumServices
import Testing

@Suite struct SigningRequestIDTests {
    @Test func describesAsItsHash() {
        let hash = Hash256(bytes: [UInt8](repeating: 7, count: 32))!
        #expect(SigningRequestID(hash).description == hash.description)
        #expect(SigningRequestID(hash) == SigningRequestID(hash))
    }
}
