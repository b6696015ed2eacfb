// Mining methods (filled in by this mining work).

import JSONRPC

extension NodeRPCContext {
    func registerMining(in registry: RPCRegistry) {}
}
