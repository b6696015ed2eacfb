import DKG
import Testing

@Suite struct DKGParametersTests {
    @Test func thresholdMustFitTheMembers() throws {
        #expect(throws: DKGParameters.Invalid.self) { try DKGParameters(threshold: 4, memberCount: 3) }
        #expect(throws: DKGParameters.Invalid.self) { try DKGParameters(threshold: 1, memberCount: 3) }
        #expect(try DKGParameters(threshold: 30, memberCount: 50).threshold == 30)
    }
}
