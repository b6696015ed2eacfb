// Control methods: uptime, stop, getrpcinfo, getmemoryinfo, setmocktime (help is the registry's own).

import Foundation
import JSONRPC

extension NodeRPCContext {
    func registerControl(in registry: RPCRegistry) {
        registry.register(RPCMethod("uptime", category: "Control", help: "Returns the total uptime of the server, in seconds.") { _ in
            .int(Int64(Date().timeIntervalSince(self.startedAt)))
        })
        registry.register(RPCMethod("stop", category: "Control",
                                    help: "Request a graceful shutdown of the node: peers closed, the chain state flushed, files saved.") { _ in
            self.logger.notice("stop requested over RPC")
            self.requestStop()
            return "Rusty node stopping"
        })
        registry.register(RPCMethod("getrpcinfo", category: "Control", help: "Returns details of the RPC server.") { _ in
            ["active_commands": .array([]), "logpath": .string(self.directory + "/debug.log")]
        })
        registry.register(RPCMethod("getmemoryinfo", category: "Control",
                                    help: "Returns the process's memory use: resident set size and its peak, in bytes.") { _ in
            let (resident, peak) = Self.residentMemory()
            return ["rss": .int(resident), "peak_rss": .int(peak)]
        })
        registry.register(RPCMethod("setmocktime", category: "Control",
                                    parameters: [RPCParameter("timestamp", "number",
                                                              "Unix seconds the node's clock reads from now on; 0 returns to the system clock")],
                                    help: "Sets the node's clock (regtest only): the mempool's entry times, expiry and retention "
                                        + "read it, so hours of pool life can be tested at once.") { args in
            guard self.network == "regtest" else {
                throw RPCError(RPCError.miscError, "setmocktime is for regression testing (-regtest mode) only")
            }
            let time = try args.int(0)
            guard time >= 0 else { throw RPCError.invalidParameter("Mocktime cannot be negative: \(time).") }
            self.clock.setMockTime(UInt64(time))
            self.logger.info("mock time \(time == 0 ? "cleared" : "set to \(time)")")
            return .null
        })
    }

    /// VmRSS and VmHWM from /proc/self/status (0 where unavailable).
    static func residentMemory() -> (Int64, Int64) {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
        func kilobytes(_ key: String) -> Int64 {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return 0 }
            return Int64(line.split(separator: " ").dropFirst().first.flatMap { Int64($0) } ?? 0) * 1024
        }
        return (kilobytes("VmRSS"), kilobytes("VmHWM"))
    }
}
