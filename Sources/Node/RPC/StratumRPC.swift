// getstratuminfo: the pool server's settings, current job, totals, workers and sessions.

import Foundation
import JSONRPC
import Stratum

extension NodeRPCContext {
    func registerStratum(in registry: RPCRegistry) {
        registry.register(RPCMethod(
            "getstratuminfo", category: "Mining",
            help: "The Stratum pool server: {\"enabled\", \"port\", \"bind\", \"payoutaddress\", \"connections\", \"difficulty\": "
                + "{initial, minimum, maximum, sharespersecond}, \"job\": {id, height, previousblockhash, transactions, fees, clean, "
                + "created} (the current template; id: its serial number, the jobs sent on it have ids of their own), "
                + "\"totals\": {accepted, acceptedwork, blocks, rejected: {kind: count}}, "
                + "\"workers\": [{name, connections, accepted, acceptedwork, rejected, blocks, hashrate (hashes per second over the "
                + "last 5 minutes), difficulty, lastshare}] (\"(overflow)\" counts the workers that found every account held by a "
                + "connected worker), \"sessions\": [{id, peer, prefix, useragent, workers, difficulty, "
                + "accepted, connected}]}. With the server off (no --stratum): {\"enabled\": false}."
        ) { _ in
            guard let pool = self.stratum else { return ["enabled": false] }
            return pool.info()
        })
    }
}

extension StratumPool {
    /// getstratuminfo's answer.
    func info() -> JSON {
        let unixNow = UInt64(Date().timeIntervalSince1970)
        let difficulty = settings.difficulty
        var job: JSON = .null
        if let template = currentTemplate {
            job = [
                "id": .int(template.serial),
                "height": .int(template.header.height),
                "previousblockhash": .string(template.previousHash.hex),
                "transactions": .int(template.transactionCount),
                "fees": .int(template.fees),
                "clean": .bool(template.clean),
                "created": .int(template.created),
            ]
        }
        let totals = accounting.totals
        let workers: [JSON] = accounting.snapshot().map { name, worker in
            .object([
                "name": .string(name),
                "connections": .int(max(worker.connections, 0)),
                "accepted": .int(worker.accepted),
                "acceptedwork": .double(worker.acceptedWork),
                "rejected": Self.rejectionCounts(worker.rejected),
                "blocks": .int(worker.blocks),
                "hashrate": .double(accounting.hashrate(worker, unixTime: unixNow)),
                "difficulty": .double(worker.difficulty),
                "lastshare": worker.lastShare.map { .int($0) } ?? .null,
            ])
        }
        let sessions: [JSON] = allSessions.map { session in
            let summary = session.summary
            return .object([
                "id": .int(summary.id),
                "peer": .string(summary.peer),
                "prefix": .string(summary.prefix),
                "useragent": summary.userAgent.map { .string($0) } ?? .null,
                "workers": .array(summary.workers.map { .string($0) }),
                "difficulty": .double(summary.difficulty),
                "accepted": .int(summary.accepted),
                "connected": .int(summary.connected),
            ])
        }
        return .object([
            "enabled": true,
            "port": .int(port),
            "bind": .string(settings.host),
            "payoutaddress": .string(settings.payoutAddress),
            "connections": .int(sessions.count),
            "difficulty": [
                "initial": .double(difficulty.initial),
                "minimum": .double(difficulty.minimum),
                "maximum": .double(difficulty.maximum),
                "sharespersecond": .double(difficulty.targetSharesPerSecond),
            ],
            "job": job,
            "totals": [
                "accepted": .int(totals.accepted),
                "acceptedwork": .double(totals.acceptedWork),
                "blocks": .int(totals.blocks),
                "rejected": Self.rejectionCounts(totals.rejected),
            ],
            "workers": .array(workers),
            "sessions": .array(sessions),
        ])
    }

    /// Every rejection kind with its count (zero included, so the shape never changes).
    static func rejectionCounts(_ counts: [ShareRejection: UInt64]) -> JSON {
        .object(JSONObject(ShareRejection.allCases.map { ($0.rawValue, .int(counts[$0] ?? 0)) }))
    }
}
