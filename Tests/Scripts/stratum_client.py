#!/usr/bin/env python3
"""An independent Stratum v1 client for the rusty node's pool server (docs/PROTOCOL.md section 15),
written with Python's standard library only, BLAKE3 included (hashlib has none). Passing it shows
the wire protocol, the header hash and the share target are what the protocol text says, with
nothing borrowed from the Swift code.

Usage:
  stratum_client.py --self-test
  stratum_client.py solve --host H --port P --user ADDR[.worker]
  stratum_client.py stale --host H --port P --user ADDR[.worker]
  stratum_client.py abuse --host H --port P --user ADDR[.worker]

Each mode prints one JSON summary line on stdout and exits 0 when every expectation held; else it
prints "FAIL <what was expected>" on stderr and exits 1 (2 for usage errors).
"""

import argparse
import json
import socket
import sys
import threading
import time

from stratum_pow import REGTEST_POW_LIMIT_BITS, CheckFailed, expect, hash_value, self_test
from stratum_session import Connection, ServerClosed, Session, error_code, error_message


# ---------------------------------------------------------------------------------------------
# Modes.

def solve(args):
    session = Session(args)
    job = session.job
    share, block = session.targets(job)
    # A share that is not a block leaves the tip alone, so its duplicate meets the same job.
    can_miss_block = share > block
    nonce, digest, hashes = session.search(job, lambda v: v <= share and (v > block or not can_miss_block))
    is_block = hash_value(digest) <= block
    answer = session.submit(job.id, job.time, nonce)
    expect(answer.get("result") is True and answer.get("error") is None, "the solved share is accepted, got %r" % (answer,))
    again = session.submit(job.id, job.time, nonce)
    if is_block:
        # The block moved the tip: the job is stale and the server may say so before "duplicate".
        expect(error_code(again) in (21, 22), "the same block share again is refused with 22 (or 21 stale), got %r" % (again,))
    else:
        expect(error_code(again) == 22, "the same share again is refused with 22 duplicate, got %r" % (again,))
    unknown = session.submit("f00dfacecafe", job.time, session.nonce(1))
    expect(error_code(unknown) == 21, "a made-up job id is refused with 21, got %r" % (unknown,))
    outside = session.submit(job.id, job.time, (((session.prefix + 1) & 0xFFFF) << session.suffix_bits) | 5)
    expect(error_code(outside) == 20, "a nonce outside the connection's prefix is refused with 20, got %r" % (outside,))
    stranger = session.submit(job.id, job.time, session.nonce(7), worker=args.user + ".stranger")
    expect(error_code(stranger) == 24, "an unauthorized worker is refused with 24, got %r" % (stranger,))
    low = None
    if share < (1 << 256) - (1 << 250) and not is_block:
        # About half of all hashes miss a share target at difficulty >= 1: one is found at once.
        low_nonce, _, _ = session.search(job, lambda v: v > share)
        low = error_code(session.submit(job.id, job.time, low_nonce))
        expect(low == 23, "a hash above the share target is refused with 23 low difficulty, got %r" % (low,))
    print(json.dumps({"mode": "solve", "extranonce1": session.extranonce1, "difficulty": job.difficulty,
                      "job": job.id, "hash": digest.hex(), "nonce": "%016x" % nonce, "hashes": hashes,
                      "block": is_block, "accepted": 1, "duplicate": error_code(again), "unknownjob": error_code(unknown),
                      "outsideprefix": error_code(outside), "unauthorized": error_code(stranger), "lowdifficulty": low}))
    session.close()


def stale(args):
    """Finds a share and a block on the first job, submits the block, waits for the clean job it
    causes (its previous hash is the block's hash) and then submits the share: 21 stale."""
    session = Session(args)
    job = session.job
    share, block = session.targets(job)
    block_nonce, block_digest, _ = session.search(job, lambda v: v <= block)
    share_nonce, _, _ = session.search(job, lambda v: v <= share, start=(block_nonce + 1) & ((1 << session.suffix_bits) - 1))
    answer = session.submit(job.id, job.time, block_nonce)
    expect(answer.get("result") is True, "the block share is accepted, got %r" % (answer,))
    fresh = session.connection.wait_job(args.timeout, lambda j: j.clean and j.previous == block_digest)
    late = session.submit(job.id, job.time, share_nonce)
    expect(error_code(late) == 21 and "stale" in error_message(late).lower(),
           "a share for the old tip's job is refused with 21 stale, got %r" % (late,))
    print(json.dumps({"mode": "stale", "block": block_digest.hex(), "oldjob": job.id, "newjob": fresh.id,
                      "stale": error_code(late), "message": error_message(late)}))
    session.close()


class Watchdog:
    """The honest miner: pings the server on its own connection the whole time and records the
    slowest answer, so a stalled server shows up as a latency past the bound."""

    def __init__(self, session):
        self.session = session
        self.latencies = []
        self.failure = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                answer = self.session.connection.request("mining.extranonce.subscribe", [], timeout=30)
                self.latencies.append(time.monotonic() - started)
                expect(answer.get("result") is False, "mining.extranonce.subscribe answers false, got %r" % (answer,))
                self.stopping.wait(0.05)
        except (CheckFailed, OSError, ValueError) as error:
            self.failure = "the honest connection keeps being answered: %s" % error

    def stop(self):
        self.stopping.set()
        self.thread.join(60)
        expect(self.failure is None, self.failure or "")
        expect(self.latencies, "the honest connection got answers")
        return max(self.latencies)


def read_until_closed(sock, timeout):
    """Everything the server sends until it closes (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    received = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except OSError:
            return received, True
        if not chunk:
            return received, True
        received += chunk
    return received, False


def abuse_bad_lines(args):
    connection = Connection(args.host, args.port, args.timeout)
    connection.send_line(b'{"id": 1, "method": "mining.subscribe", "params": [')
    answer = connection.read_message(time.monotonic() + args.timeout)
    expect(answer.get("error") is not None and answer.get("id") is None,
           "malformed JSON is answered with an error and id null, got %r" % (answer,))
    answer = connection.request("mining.frobnicate", [])
    expect(error_code(answer) == 20 and "unknown method" in error_message(answer),
           "an unknown method is answered [20, \"unknown method ...\"], got %r" % (answer,))
    answer = connection.request("mining.subscribe", ["after-garbage"])
    expect(isinstance(answer.get("result"), list), "the connection still serves after bad lines, got %r" % (answer,))
    connection.close()


def abuse_huge_line(args):
    sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    try:
        sock.sendall(b"x" * (1 << 20))
    except OSError:
        pass  # The server may close before it has read it all.
    received, closed = read_until_closed(sock, args.timeout)
    sock.close()
    expect(closed, "a 1 MiB line without a newline makes the server close the connection")
    lines = [json.loads(line) for line in received.split(b"\n") if line.strip()]
    expect(not lines or error_code(lines[0]) == 20, "the huge line is answered with error 20 before closing, got %r" % (lines,))
    return bool(lines)


def send_flood(session, lines, deadline):
    """Sends `lines` from a thread while reading the answers; returns the answers (responses,
    not notifications) and whether the server closed the connection."""
    payload = b"\n".join(lines) + b"\n"

    def send():
        try:
            session.connection.sock.sendall(payload)
        except OSError:
            pass  # Closed by the server: the reader sees it.
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answers = []
    closed = False
    while len(answers) < len(lines):
        try:
            message = session.connection.read_message(deadline)
        except ServerClosed:
            closed = True
            break
        except CheckFailed:
            raise CheckFailed("the flood is answered in time (%d of %d answers)" % (len(answers), len(lines)))
        if "method" not in message:
            answers.append(message)
    sender.join(10)
    session.close()
    return answers, closed


def abuse_share_flood(args, count=5000):
    """A real share, then `count` well-formed submits without waiting: repeats of it (22
    duplicate, or 21 stale had it been a block) and made-up job ids (21). A miner's normal
    refusals: every one must be answered."""
    session = Session(args, "share-flood")
    job = session.job
    share, block = session.targets(job)
    nonce, _, _ = session.search(job, lambda v: v <= share and (v > block or share <= block))
    answer = session.submit(job.id, job.time, nonce)
    expect(answer.get("result") is True, "the flood's first share is accepted, got %r" % (answer,))
    lines = []
    for index in range(count):
        job_id = job.id if index % 2 == 0 else "ffff%08x" % index
        lines.append(json.dumps({"id": index + 100, "method": "mining.submit",
                                 "params": [args.user, job_id, "%016x" % job.time, "%016x" % nonce]}).encode())
    started = time.monotonic()
    answers, closed = send_flood(session, lines, started + 60)
    expect(not closed and len(answers) == count, "all %d refused shares are answered (got %d)" % (count, len(answers)))
    codes = [error_code(answer) for answer in answers]
    expect(all(code in (21, 22) for code in codes), "every repeat is 22 and every made-up job 21, got %r" % (set(codes),))
    return {"sharefloodanswers": len(answers), "sharefloodseconds": round(time.monotonic() - started, 3),
            "sharefloodduplicate": codes.count(22), "sharefloodunknownjob": codes.count(21)}


def abuse_garbage_flood(args, count=5000):
    """`count` lines without waiting: malformed JSON and submits the server must call invalid
    (nonces outside the prefix, times before the job's). Bad messages: the server answers each
    with an error and may close the connection after enough of them in a row.

    When it closes, the answers still in flight can be lost to the reset (the flood is still
    arriving at a closed socket), so the answers seen here undercount what the server judged.
    The server reads in order and stops at its limit of bad messages in a row, so the invalid
    shares among the first `--bad-message-limit` lines are exactly the ones it counted."""
    session = Session(args, "garbage-flood")
    job = session.job
    lines = []
    for index in range(count):
        if index % 3 == 0:
            lines.append(b'{"id": %d, "method": "mining.submit", "params": ["x", ' % (index + 100))
            continue
        outside = (((session.prefix + 1) & 0xFFFF) << session.suffix_bits) | index
        nonce, header_time = (outside, job.time) if index % 3 == 1 else (session.nonce(index), job.time - 1)
        lines.append(json.dumps({"id": index + 100, "method": "mining.submit",
                                 "params": [args.user, job.id, "%016x" % header_time, "%016x" % nonce]}).encode())
    started = time.monotonic()
    answers, closed = send_flood(session, lines, started + 60)
    expect(answers and all(error_code(answer) == 20 for answer in answers), "every garbage line is answered with error 20")
    invalid = sum(1 for answer in answers if answer.get("id") is not None)
    judged = min(count, args.bad_message_limit) if closed else len(answers)
    invalid_judged = sum(1 for index in range(judged) if index % 3 != 0)
    expect(invalid <= invalid_judged, "no more invalid-share answers (%d) than shares the server judged (%d)"
           % (invalid, invalid_judged))
    return {"garbageanswers": len(answers), "garbageclosed": closed, "garbageinvalidshares": invalid,
            "garbageinvalidjudged": invalid_judged, "garbageseconds": round(time.monotonic() - started, 3)}


def abuse_slow_reader(args, seconds=3.0):
    """Subscribes, then sends requests for `seconds` without ever reading the answers (with a
    small receive buffer, so the answers pile up at the server). Returns the bytes sent and
    whether the server closed the connection (the pool's cure for a reader that never reads)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(args.timeout)
    sock.connect((args.host, args.port))
    sock.sendall(b'{"id": 1, "method": "mining.subscribe", "params": ["slow"]}\n')
    sock.sendall(json.dumps({"id": 2, "method": "mining.authorize", "params": [args.user, "x"]}).encode() + b"\n")
    request = b'{"id": 3, "method": "mining.configure", "params": [["version-rolling"], {}]}\n' * 512
    sent = 0
    closed = False
    deadline = time.monotonic() + seconds
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            sent += sock.send(request)
        except socket.timeout:
            continue  # The server stopped reading us (back-pressure): fine, keep the pressure on.
        except OSError:
            closed = True
            break
    sock.close()
    return sent, closed


def abuse(args):
    honest = Session(args, "honest")
    watchdog = Watchdog(honest)
    results = {"mode": "abuse"}
    abuse_bad_lines(args)
    results["hugelineanswered"] = abuse_huge_line(args)
    results.update(abuse_share_flood(args))
    results.update(abuse_garbage_flood(args))
    results["slowreaderbytes"], results["slowreaderclosed"] = abuse_slow_reader(args)
    slowest = watchdog.stop()
    results["honestanswers"] = len(watchdog.latencies)
    results["honestmaxlatency"] = round(slowest, 4)
    expect(slowest <= args.max_latency, "the honest connection is answered within %.1f s (slowest %.3f s)"
           % (args.max_latency, slowest))
    # And it can still mine: a share on the latest job is accepted.
    latest = honest.connection.jobs[-1]
    share, _ = honest.targets(latest)
    nonce, _, _ = honest.search(latest, lambda v: v <= share)
    answer = honest.submit(latest.id, latest.time, nonce)
    expect(answer.get("result") is True, "after the abuse a share is still accepted, got %r" % (answer,))
    honest.close()
    print(json.dumps(results))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Independent Stratum v1 client for the rusty node.")
    parser.add_argument("--self-test", action="store_true", help="check BLAKE3 and the share target math, no network")
    modes = parser.add_subparsers(dest="mode")
    for name, text in (("solve", "solve and submit a share; duplicate, unknown job, prefix and worker errors"),
                       ("stale", "a block makes the previous job stale: its shares get 21 stale"),
                       ("abuse", "malformed JSON, unknown methods, a huge line, a flood, a slow reader")):
        mode = modes.add_parser(name, help=text)
        mode.add_argument("--host", default="127.0.0.1")
        mode.add_argument("--port", type=int, required=True)
        mode.add_argument("--user", required=True, help="ADDRESS or ADDRESS.worker")
        mode.add_argument("--timeout", type=float, default=30.0, help="bound of every wait, seconds")
        mode.add_argument("--pow-limit-bits", type=lambda text: int(text, 0), default=REGTEST_POW_LIMIT_BITS)
        mode.add_argument("--max-latency", type=float, default=3.0, help="abuse: slowest answer allowed to the honest miner")
        mode.add_argument("--bad-message-limit", type=int, default=50,
                          help="abuse: bad messages in a row after which the server closes (the pool's default)")
    args = parser.parse_args(argv)
    try:
        if args.self_test:
            self_test()
        elif args.mode is None:
            parser.error("give --self-test or a mode (solve, stale, abuse)")
        else:
            {"solve": solve, "stale": stale, "abuse": abuse}[args.mode](args)
    except CheckFailed as failure:
        print("FAIL %s" % failure, file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print("FAIL a working connection to the server: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
