"""`make cleanup`: the scheduled cleanup once, now, in the running `make dev` (its port, or PORT);
prints what it did."""

from __future__ import annotations

import argparse
import json
import sys

import httpx

from local.settings import DEV_PORT_FILE


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the cleanup once in the running make dev.")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    port = args.port or (int(DEV_PORT_FILE.read_text()) if DEV_PORT_FILE.exists() else 3000)
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{port}/local/cleanup",
            headers={"Content-Type": "application/json"},
            timeout=960,
        )
    except httpx.HTTPError:
        sys.exit(f"No make dev answers on port {port}: start it first (make dev).")
    print(json.dumps(answer.json(), indent=2))
    sys.exit(0 if answer.status_code == 200 else 1)


if __name__ == "__main__":
    main()
