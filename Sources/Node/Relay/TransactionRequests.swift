// Which announced transactions to fetch from whom (Bitcoin Core's TxRequestTracker, simplified):
// one `getdata` in flight per wtxid over all peers, announcers we chose (outbound, manual)
// asked first, inbound announcers only after a delay, another announcer asked only after the
// request timed out or was answered `notfound`, and a bound per peer. Loop-confined.

import Primitives

struct TransactionRequestTracker {
    struct Announcer {
        var peerID: Int
        /// When this announcer may be asked (announced at, plus the delay for inbound peers).
        var readyAt: Double
        var preferred: Bool
    }

    struct Record {
        /// In order of announcement; an announcer asked and failed is removed.
        var announcers: [Announcer] = []
        var inFlight: (peerID: Int, since: Double)?
    }

    /// Most wtxids one peer may have announced and not yet been answered (in flight included).
    let maxPerPeer: Int
    /// Seconds an inbound (not preferred) announcer waits, so one we chose may be asked first.
    let nonPreferredDelay: Double
    /// Seconds a request stands before the next announcer is asked.
    let timeout: Double

    private(set) var records: [Hash256: Record] = [:]
    /// The wtxids each peer announced that are tracked (its share, and cleanup on disconnect).
    private(set) var byPeer: [Int: Set<Hash256>] = [:]
    /// When to look at a wtxid again (ready or timed out); stale entries are skipped.
    private var checks = TimeHeap()

    init(maxPerPeer: Int = 5_000, nonPreferredDelay: Double = 2, timeout: Double = 60) {
        self.maxPerPeer = maxPerPeer
        self.nonPreferredDelay = nonPreferredDelay
        self.timeout = timeout
    }

    func isTracked(_ wtxid: Hash256) -> Bool { records[wtxid] != nil }

    /// Whether `peerID` may have another announcement tracked.
    func hasRoom(for peerID: Int) -> Bool { byPeer[peerID, default: []].count < maxPerPeer }

    /// How many wtxids are in flight to `peerID`.
    func inFlightCount(_ peerID: Int) -> Int {
        (byPeer[peerID] ?? []).reduce(0) { $0 + (records[$1]?.inFlight?.peerID == peerID ? 1 : 0) }
    }

    /// `peerID` announced `wtxid` (which the pool wants). False when not tracked: the peer's
    /// share is full, or it already announced it.
    @discardableResult
    mutating func announced(_ wtxid: Hash256, by peerID: Int, preferred: Bool, now: Double) -> Bool {
        guard byPeer[peerID, default: []].count < maxPerPeer else { return false }
        var record = records[wtxid] ?? Record()
        guard !record.announcers.contains(where: { $0.peerID == peerID }) else { return false }
        let readyAt = preferred ? now : now + nonPreferredDelay
        record.announcers.append(Announcer(peerID: peerID, readyAt: readyAt, preferred: preferred))
        records[wtxid] = record
        byPeer[peerID, default: []].insert(wtxid)
        if record.inFlight == nil { checks.push(readyAt, wtxid) }
        return true
    }

    /// The requests to send now, by peer: wtxids whose announcer is ready and none in flight,
    /// and those whose request timed out (the next announcer is asked; the one that failed
    /// is forgotten for this wtxid).
    mutating func dueRequests(now: Double) -> [Int: [Hash256]] {
        var requests = [Int: [Hash256]]()
        while let (at, wtxid) = checks.peek(), at <= now {
            checks.pop()
            guard var record = records[wtxid] else { continue }
            if let inFlight = record.inFlight {
                // Stale (a newer request stands) unless this one has run out.
                guard inFlight.since + timeout <= now else { continue }
                record.inFlight = nil
                removeAnnouncer(inFlight.peerID, of: wtxid, from: &record)
            }
            if let peerID = assign(wtxid, &record, now: now) { requests[peerID, default: []].append(wtxid) }
            store(wtxid, record)
        }
        return requests
    }

    /// The transaction came (from anyone): nothing more to ask for.
    mutating func received(_ wtxid: Hash256) {
        guard let record = records.removeValue(forKey: wtxid) else { return }
        for announcer in record.announcers { forget(wtxid, of: announcer.peerID) }
    }

    /// `peerID` answered `notfound`: the next announcer may be asked at once.
    mutating func notFound(_ wtxid: Hash256, from peerID: Int, now: Double) {
        guard var record = records[wtxid], record.inFlight?.peerID == peerID else { return }
        record.inFlight = nil
        removeAnnouncer(peerID, of: wtxid, from: &record)
        store(wtxid, record)
        checks.push(now, wtxid)
    }

    /// The peer is gone: its announcements go; what was in flight to it may go to another.
    mutating func peerGone(_ peerID: Int, now: Double) {
        guard let announced = byPeer.removeValue(forKey: peerID) else { return }
        for wtxid in announced {
            guard var record = records[wtxid] else { continue }
            record.announcers.removeAll { $0.peerID == peerID }
            if record.inFlight?.peerID == peerID {
                record.inFlight = nil
                checks.push(now, wtxid)
            }
            store(wtxid, record)
        }
    }

    /// Picks the announcer to ask: a ready preferred one first, then the earliest ready.
    private mutating func assign(_ wtxid: Hash256, _ record: inout Record, now: Double) -> Int? {
        let ready = record.announcers.filter { $0.readyAt <= now }
        guard let chosen = ready.first(where: \.preferred) ?? ready.min(by: { $0.readyAt < $1.readyAt }) else { return nil }
        record.inFlight = (chosen.peerID, now)
        checks.push(now + timeout, wtxid)
        return chosen.peerID
    }

    private mutating func removeAnnouncer(_ peerID: Int, of wtxid: Hash256, from record: inout Record) {
        record.announcers.removeAll { $0.peerID == peerID }
        forget(wtxid, of: peerID)
    }

    /// Keeps the record, or drops it once nobody is left to ask.
    private mutating func store(_ wtxid: Hash256, _ record: Record) {
        records[wtxid] = record.announcers.isEmpty && record.inFlight == nil ? nil : record
    }

    private mutating func forget(_ wtxid: Hash256, of peerID: Int) {
        byPeer[peerID]?.remove(wtxid)
        if byPeer[peerID]?.isEmpty == true { byPeer[peerID] = nil }
    }
}

/// A binary min-heap of (time, wtxid).
struct TimeHeap {
    private var items: [(at: Double, wtxid: Hash256)] = []

    var count: Int { items.count }

    func peek() -> (Double, Hash256)? { items.first.map { ($0.at, $0.wtxid) } }

    mutating func push(_ at: Double, _ wtxid: Hash256) {
        items.append((at, wtxid))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].at < items[parent].at else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left].at < items[smallest].at { smallest = left }
            if right < items.count && items[right].at < items[smallest].at { smallest = right }
            guard smallest != parent else { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
