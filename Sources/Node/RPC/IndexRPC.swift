// Index methods: bitcoind's getindexinfo over the optional indexes (today the transaction index).

import JSONRPC
import TxIndex

extension NodeRPCContext {
    func registerIndex(in registry: RPCRegistry) {
        registry.register(RPCMethod(
            "getindexinfo", category: "Util",
            parameters: [RPCParameter("index_name", "string", required: false, "Filter results for an index with a specific name.")],
            help: """
                Returns the status of one or all available indices currently running in the node.

                Result:
                {                               (json object)
                  "name" : {                    (json object) The name of the index
                    "synced" : true|false,      (boolean) Whether the index is synced or not
                    "best_block_height" : n     (numeric) The block height to which the index is synced
                  }
                }
                """
        ) { [self] arguments in
            let filter = try arguments.optionalString(0)
            var result = JSONObject()
            if let txIndex, filter == nil || filter == "txindex" {
                let status = txIndex.status
                result["txindex"] = ["synced": .bool(status.synced), "best_block_height": .int(status.bestHeight)]
            }
            return .object(result)
        })
    }
}
