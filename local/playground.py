"""The playground at /playground, on the local gateway only (never deployed): a page that shows
what Parley's API does, using that API from the browser. Its one request of its own is
POST /playground/session, which mints a development token (as `make token` does) for the user,
brands and scopes the page asks for, and sets it as the `session` cookie too; in AWS there is no
such route, and tokens come from the identity provider."""

from __future__ import annotations

import json
import mimetypes
from typing import Any

from local.loopback import Answer, foreign, refused
from local.template import ROOT
from local.token import mint
from parley.auth.principal import ALL_SCOPES

ASSETS = ROOT / "local" / "playground"
SESSION_SECONDS = 8 * 3600


def serve(method: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> Answer | None:
    """The response for a /playground path; None for any other path. `headers`: the request's,
    by lower-case name."""
    if path == "/playground/session" and method == "POST":
        return foreign(headers or {}, "Sessions are minted") or _session(body)
    if method != "GET" or not (path == "/playground" or path.startswith("/playground/")):
        return None
    name = path.removeprefix("/playground").strip("/") or "index.html"
    asset = (ASSETS / name).resolve()
    if asset.parent != ASSETS.resolve() or not asset.is_file():
        return 404, {"Content-Type": "text/plain"}, b"not found"
    kind = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
    if asset.suffix == ".js":
        kind = "text/javascript"  # whatever the machine's mime table says: modules need it
    return 200, {"Content-Type": f"{kind}; charset=utf-8", "Cache-Control": "no-store"}, asset.read_bytes()


def _session(body: bytes) -> Answer:
    try:
        asked: Any = json.loads(body or b"{}")
        user = str(asked["user_id"]).strip()
        brands = [str(b) for b in asked.get("brands", [])]
        scopes = [str(s) for s in asked.get("scopes", ALL_SCOPES)]
    except (ValueError, KeyError, TypeError, AttributeError):
        return refused("Send {user_id, brands, scopes}.")
    if not user or len(user) > 200:
        return refused("user_id: 1 to 200 characters.")
    if unknown := sorted(set(scopes) - set(ALL_SCOPES)):
        return refused(f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(ALL_SCOPES)}.")
    token = mint(user, brands, scopes, SESSION_SECONDS)
    cookie = f"session={token}; Path=/; SameSite=Strict; Max-Age={SESSION_SECONDS}"
    headers = {"Content-Type": "application/json", "Set-Cookie": cookie, "Cache-Control": "no-store"}
    return 200, headers, json.dumps({"token": token, "expires_in": SESSION_SECONDS}).encode()
