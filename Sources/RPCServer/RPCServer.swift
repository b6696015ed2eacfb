// JSON-RPC over HTTP (this issue fills it in).
