import Quorums
import Testing

@Suite struct QuorumTypeIDTests {
    @Test func ordersByNumber() {
        #expect(QuorumTypeID(rawValue: 1) < QuorumTypeID(rawValue: 2))
        #expect(QuorumTypeID(rawValue: 7).description == "quorum type 7")
    }
}
