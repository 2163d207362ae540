"""Development tokens: HS256 JWTs signed with the local secret, as `make token` prints them."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import jwt

from local.settings import LOCAL_AUDIENCE, LOCAL_ISSUER, LOCAL_SECRET
from parley.auth.principal import ALL_SCOPES


def mint(
    sub: str,
    brands: list[str] | None = None,
    scopes: list[str] | None = None,
    ttl: int = 3600,
    secret: str = LOCAL_SECRET,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": sub,
        "brands": brands or [],
        "scope": " ".join(ALL_SCOPES if scopes is None else scopes),
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        **claims,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def main() -> None:
    parser = argparse.ArgumentParser(description="Print a development token for the local gateway.")
    parser.add_argument("--sub", required=True)
    parser.add_argument("--brands", default="", help="comma- or space-separated brand ids")
    parser.add_argument("--scopes", default="", help="space-separated scopes (default: all)")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    args = parser.parse_args()
    brands = args.brands.replace(",", " ").split()
    scopes = args.scopes.replace(",", " ").split() or None
    print(mint(args.sub, brands, scopes, args.ttl))
    expires = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(time.time() + args.ttl))
    # On standard error: `TOKEN=$(make -s token ...)` keeps the token alone.
    print(f"expires {expires} (in {args.ttl} s; make token TTL=<seconds> for longer)", file=sys.stderr)


if __name__ == "__main__":
    main()
