// Control methods (filled in by this control work).

import JSONRPC

extension NodeRPCContext {
    func registerControl(in registry: RPCRegistry) {}
}
