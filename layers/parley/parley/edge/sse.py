"""Server-sent events on the wire, whichever stream writes them: the headers, one named event,
the ResponseWriter a streaming function writes to (the Lambda Web Adapter's connection in AWS, the
local gateway's chunked response under `make dev`), and a whole Lambda proxy result written to it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.utilities.typing import LambdaContext

DEFAULT_REMAINING_SECONDS = 900.0  # without a Lambda context: the streaming functions' timeout

SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # no proxy on the way holds the events back
}


class ResponseWriter(Protocol):
    def start(self, status: int, headers: dict[str, str]) -> None:
        """Send the status line and headers (once, before any body)."""

    def write(self, data: bytes) -> None:
        """Send a piece of the body now; raises OSError once the client is gone."""


StreamingHandler = Callable[[dict[str, Any], LambdaContext, ResponseWriter], None]


def sse(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def attempt(action: Callable[[], None]) -> bool:
    """Write to the client; False once it is gone (its connection closed)."""
    try:
        action()
    except OSError:
        return False
    return True


def write_whole(writer: ResponseWriter, result: dict[str, Any]) -> None:
    """A Lambda proxy result (statusCode, headers, body) written at once."""
    headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    try:
        writer.start(int(result["statusCode"]), headers)
        writer.write(data)
    except OSError:
        pass  # the client is gone; what it asked for was done


def remaining_seconds(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return float(remaining()) / 1000 if callable(remaining) else DEFAULT_REMAINING_SECONDS
