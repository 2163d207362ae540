"""The local gateway's routes of its own (never deployed) answer only requests addressed to a
loopback host and, when they name an origin, coming from that same host: a page elsewhere, or a
DNS name rebound to 127.0.0.1, is refused; and only JSON, which a cross-site form cannot send."""

from __future__ import annotations

import json

Answer = tuple[int, dict[str, str], bytes]
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def foreign(headers: dict[str, str], what: str) -> Answer | None:
    """A 403 or 415 for a request that is not the page's own; None for one that is. `headers`: by
    lower-case name."""
    host = headers.get("host", "").lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name not in LOOPBACK_HOSTS:
        return refused(f"{what} only for a loopback host, not '{host[:100]}'.", 403, "forbidden")
    origin = headers.get("origin")
    if origin is not None and origin.rstrip("/").lower() not in (f"http://{host}", f"https://{host}"):
        return refused(f"{what} only for the page's own origin, not '{origin[:100]}'.", 403, "forbidden")
    if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return refused("Send the request as 'Content-Type: application/json'.", 415, "unsupported_media_type")
    return None


def refused(message: str, status: int = 400, code: str = "invalid_request") -> Answer:
    body = json.dumps({"error": code, "message": message}).encode()
    return status, {"Content-Type": "application/json"}, body
