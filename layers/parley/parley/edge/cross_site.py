"""Writes authenticated by the `session` cookie alone, from a browser, are refused unless they come
from an origin Parley trusts and carry JSON. A browser attaches the cookie to any request to
Parley's host, even one a page elsewhere makes (a form, or a `text/plain` fetch that needs no
preflight), so without these checks another site could write as the signed-in user.

- A write (POST, PUT, PATCH, DELETE) with the cookie and no `Authorization` header must name an
  `Origin` that is Parley's own (the request's Host) or one of ALLOWED_ORIGINS; a browser sends
  `Origin` with every such request. A client that is no browser sends none, and is let through.
- Its body, if any, must be `application/json`: a browser sends that type cross-origin only
  after a CORS preflight, which an origin not allowed fails.
A bearer token is never sent by a browser on its own, so requests that carry one are unaffected.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from parley.edge.request import RequestView

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CrossSiteRefusal(ValueError):
    """A cookie-authenticated write refused: its status, code and sentence for the client."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def check_cookie_write(event: dict[str, Any], allowed_origins: frozenset[str]) -> None:
    """Raise CrossSiteRefusal for a cookie-authenticated write from a foreign origin, or with a
    body that is not JSON."""
    request = RequestView(event)
    if request.method not in WRITE_METHODS:
        return
    headers = request.headers
    if "authorization" in headers or "session=" not in headers.get("cookie", ""):
        return
    origin = headers.get("origin")
    if origin is not None and not _trusted(origin, headers.get("host"), allowed_origins):
        raise CrossSiteRefusal(
            403,
            "cross_site_request",
            f"A write with the session cookie from origin '{origin[:100]}' is refused: it is not "
            "this API's own origin nor one of its allowed origins (ALLOWED_ORIGINS).",
        )
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if request.body and media_type != "application/json":
        raise CrossSiteRefusal(
            415,
            "unsupported_media_type",
            "A write with the session cookie must send its body as 'Content-Type: application/json'.",
        )


def _trusted(origin: str, host: str | None, allowed_origins: frozenset[str]) -> bool:
    origin = origin.rstrip("/")
    if origin in allowed_origins:
        return True
    parts = urlsplit(origin)
    return bool(host) and parts.scheme in ("http", "https") and parts.netloc.lower() == str(host).lower()
