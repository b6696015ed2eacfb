// Mempool methods (filled in by this mempool work).

import JSONRPC

extension NodeRPCContext {
    func registerMempool(in registry: RPCRegistry) {}
}
