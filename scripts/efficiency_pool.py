#!/usr/bin/env python3
"""A minimal Stratum pool for scripts/stratum-efficiency.sh: it serves header-only jobs whose
block target is far out of reach (bits 0x1a00ffff), so a miner's hashrate is bounded by its
search and not by blocks (on regtest almost every share would also be a block, and each block
ends a job). Shares come at the pinned difficulty; a clean job on a new previous block is sent
every --switch seconds, so job switching is part of what is measured. Every submit is answered
true (the miner's own host check and the node's tests cover share validity).

    efficiency_pool.py --port P --difficulty D [--switch 5]
"""
import argparse, json, os, socket, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "Scripts"))
import stratum_pow  # noqa: E402  (BLAKE3 written from the spec: the midstate field)


def header(serial):
    h = bytearray(128)
    h[0:4] = (1).to_bytes(4, "little")
    h[4:12] = (serial).to_bytes(8, "little")                 # height
    h[12:44] = serial.to_bytes(32, "little")                 # a previous block per job
    h[108:116] = int(time.time()).to_bytes(8, "little")
    h[116:120] = (0x1A00FFFF).to_bytes(4, "little")          # block target out of reach
    return bytes(h)


def notify(serial, clean):
    h = header(serial)
    params = ["j%x" % serial, h.hex(), stratum_pow.words_to_bytes(stratum_pow.header_midstate(h)).hex(), clean]
    return {"id": None, "method": "mining.notify", "params": params}


def serve(conn, difficulty, switch, prefix):
    f = conn.makefile("rwb")
    lock = threading.Lock()

    def send(message):
        with lock:
            f.write((json.dumps(message) + "\n").encode())
            f.flush()

    def switcher():
        serial = 1
        while True:
            time.sleep(switch)
            serial += 1
            try:
                send(notify(serial, True))
            except OSError:
                return

    for raw in f:
        message = json.loads(raw)
        method, ident = message.get("method"), message.get("id")
        if method == "mining.subscribe":
            send({"id": ident, "result": [[], "%04x" % prefix, 6], "error": None})
        elif method == "mining.authorize":
            send({"id": ident, "result": True, "error": None})
            send({"id": None, "method": "mining.set_difficulty", "params": [difficulty]})
            send(notify(1, True))
            threading.Thread(target=switcher, daemon=True).start()
        elif method == "mining.submit":
            send({"id": ident, "result": True, "error": None})
        else:
            send({"id": ident, "result": None, "error": [20, "unknown method", None]})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--difficulty", type=float, required=True)
    parser.add_argument("--switch", type=float, default=5)
    args = parser.parse_args()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen()
    prefix = 1
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, args.difficulty, args.switch, prefix), daemon=True).start()
        prefix += 1


if __name__ == "__main__":
    main()
