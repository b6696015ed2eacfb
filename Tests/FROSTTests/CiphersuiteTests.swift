import FROST
import Testing

@Suite struct CiphersuiteTests {
    @Test func contextStringIsTheRFCs() {
        #expect(String(decoding: FROSTCiphersuite.contextString, as: UTF8.self) == "FROST-ED25519-SHA512-v1")
    }
}
