"""Swagger UI for openapi.json at /docs, on the local gateway only (never deployed). Its assets
come from the npm package swagger-ui-dist: nothing is fetched at run time."""

from __future__ import annotations

import mimetypes

from local.template import OPENAPI_DOCUMENT as DOCUMENT
from local.template import ROOT

ASSETS = ROOT / "node_modules" / "swagger-ui-dist"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parley API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", persistAuthorization: true});</script>
</body></html>
"""


def serve(path: str) -> tuple[int, dict[str, str], bytes] | None:
    """The response for a /docs or /openapi.json path; None for any other path."""
    if path in ("/docs", "/docs/"):
        return 200, {"Content-Type": "text/html; charset=utf-8"}, PAGE.encode()
    if path == "/openapi.json":
        return 200, {"Content-Type": "application/json"}, DOCUMENT.read_bytes()
    if path.startswith("/docs/"):
        asset = (ASSETS / path.removeprefix("/docs/")).resolve()
        if asset.parent != ASSETS.resolve() or not asset.is_file():
            return 404, {"Content-Type": "text/plain"}, b"not found"
        kind = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
        return 200, {"Content-Type": kind}, asset.read_bytes()
    return None
