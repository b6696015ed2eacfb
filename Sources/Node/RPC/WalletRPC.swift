// Wallet methods (filled in by this wallet work).

import JSONRPC

extension NodeRPCContext {
    func registerWallet(in registry: RPCRegistry) {}
}
