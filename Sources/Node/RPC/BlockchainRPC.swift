// Blockchain methods (filled in by this blockchain work).

import JSONRPC

extension NodeRPCContext {
    func registerBlockchain(in registry: RPCRegistry) {}
}
