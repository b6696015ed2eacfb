#!/usr/bin/env python3
"""Prints an rpcauth line for rusty.conf (bitcoind's scheme): USER:SALT$HMAC-SHA256(SALT, PASSWORD).

    python3 scripts/rpcauth.py USER [PASSWORD]

Without PASSWORD a random one is made and printed once; the node stores only the salted hash.
"""
import hashlib
import hmac
import secrets
import sys


def main() -> int:
    if len(sys.argv) not in (2, 3) or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 64
    user = sys.argv[1]
    if ":" in user or not user:
        print("rpcauth.py: the user name must be non-empty and contain no ':'", file=sys.stderr)
        return 64
    password = sys.argv[2] if len(sys.argv) == 3 else secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    digest = hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest()
    print(f"rpcauth={user}:{salt}${digest}")
    if len(sys.argv) == 2:
        print(f"password: {password}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
