// The P2P wire protocol: framing and typed messages (docs/PROTOCOL.md section 12). No I/O.
