import MiningClient
import Testing

@Suite("Reconnect backoff")
struct ReconnectBackoffTests {
    @Test("delays double up to the cap, with bounded jitter, and reset after a success")
    func schedule() {
        var backoff = ReconnectBackoff(initialSeconds: 1, maximumSeconds: 60)
        #expect((0..<8).map { _ in backoff.nextDelay(jitter: 0) } == [1, 2, 4, 8, 16, 32, 60, 60])
        for _ in 0..<100 { #expect((48...72).contains(backoff.nextDelay())) }
        backoff.succeeded()
        #expect(backoff.nextDelay(jitter: 1) == 1.2)
        #expect(backoff.nextDelay(jitter: -1) == 1.6)
    }
}
