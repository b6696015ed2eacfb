// Network methods (filled in by this network work).

import JSONRPC

extension NodeRPCContext {
    func registerNetwork(in registry: RPCRegistry) {}
}
