// RawTransactions methods (filled in by this rawtransactions work).

import JSONRPC

extension NodeRPCContext {
    func registerRawTransactions(in registry: RPCRegistry) {}
}
