"""Streamed answers as server-sent events, for the generating routes.

A request asks for a stream with `"stream": true` in its body or `Accept: text/event-stream`.
The route runs as it always does; an EventStream listens to the generation and writes
`context` (RAG), `delta`… as the provider sends them (and `tool_call` / `tool_result` for
the MCP tools Parley runs), then `done` carrying exactly the
non-streamed body, or `error`. Nothing is sent before the first piece of the answer, so an
error found before it (a 400, a 403, a provider refusing at once) is the ordinary JSON response
with its status. The transport is a ResponseWriter: the Lambda Web Adapter's HTTP connection in
AWS (parley.edge.web_adapter), the local gateway's chunked response under `make dev`."""

from __future__ import annotations

import base64
import contextvars
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge.cors import cors_headers
from parley.edge.request import RequestView
from parley.providers.base import Delta

if TYPE_CHECKING:
    from parley.wiring import Wiring

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


class Stream(Protocol):
    """The events of one streamed response: Parley's (EventStream) or OpenAI's chunks
    (parley.edge.openai_stream.ChunkStream)."""

    claimed: bool

    def __init__(self, event: dict[str, Any], writer: ResponseWriter, cors: dict[str, str]) -> None: ...

    def context(self, chunks: list[Any]) -> None: ...

    def delta(self, delta: Delta) -> None: ...

    def finish(self, result: dict[str, Any]) -> None: ...


_listener: contextvars.ContextVar[Stream | None] = contextvars.ContextVar("listener", default=None)


def stream_listener() -> Stream | None:
    """The current request's event stream, when it asked for one; a route that takes it answers
    with events. One that does not (`mode: append`, a replayed Idempotency-Key) answers whole."""
    stream = _listener.get()
    if stream is not None:
        stream.claimed = True
    return stream


def wants_stream(event: dict[str, Any]) -> bool:
    request = RequestView(event)
    if "text/event-stream" in (request.header("accept") or ""):
        return True
    if '"stream"' not in request.body:  # most requests: no second parse of the body
        return False
    return request.json_object.get("stream") is True


def sse(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class StreamWriter:
    """The mechanics every streamed response shares: nothing is sent before the first piece (so
    an error found before it is an ordinary JSON response), then the status and SSE headers and
    what `opening` says comes first; a client that went away stops the writing, never the
    generation. `claimed`: the route took the stream (see stream_listener)."""

    def __init__(self, event: dict[str, Any], writer: ResponseWriter, cors: dict[str, str]) -> None:
        self.event, self.writer, self.cors = event, writer, cors
        self.started = self.gone = self.claimed = False

    def opening(self) -> bytes:
        return b""

    def _send(self, data: bytes) -> None:
        if not self.started:
            self.started = True
            data = self.opening() + data
            self._write(lambda: self.writer.start(200, {**SSE_HEADERS, **self.cors}))
        self._write(lambda: self.writer.write(data))

    def _write(self, action: Callable[[], None]) -> None:
        self.gone = self.gone or not attempt(action)


class EventStream(StreamWriter):
    """The events of one streamed response. The `context` event waits for the first piece of the
    answer, so that nothing is sent if the provider refuses at once. A client that goes away
    stops the writing, not the generation: the answer is still stored (and billed)."""

    def __init__(self, event: dict[str, Any], writer: ResponseWriter, cors: dict[str, str]) -> None:
        super().__init__(event, writer, cors)
        self.pending: list[bytes] = []

    def context(self, chunks: list[Any]) -> None:
        self.pending.append(sse("context", {"rag_context": [c.model_dump() for c in chunks]}))

    def delta(self, delta: Delta) -> None:
        data = {k: v for k, v in (("content", delta.content), ("tool_calls", delta.tool_calls)) if v}
        self._send(sse("delta", data))

    def tool_activity(self, event: str, data: dict[str, Any]) -> None:
        """A call Parley runs for the model (`tool_call`) and what it returned (`tool_result`)."""
        self._send(sse(event, data))

    def finish(self, result: dict[str, Any]) -> None:
        """End the response with the route's result: `done` with its body, or `error`; a result
        that is an error before anything was streamed goes out as the ordinary JSON response."""
        status = int(result["statusCode"])
        if not self.claimed or (status >= 300 and not self.started):
            write_whole(self.writer, result)
            return
        body = json.loads(result.get("body") or "null")
        if status < 300:
            self._send(sse("done", body))
        else:
            self._send(sse("error", {"error": body.get("error"), "message": body.get("message")}))

    def opening(self) -> bytes:
        """What waited for the first piece: the retrieved context."""
        opening, self.pending = b"".join(self.pending), []
        return opening


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


def streamed(
    handler: Callable[[dict[str, Any], LambdaContext], dict[str, Any]],
    wiring: Wiring,
    events: type[Stream] = EventStream,
) -> StreamingHandler:
    """The entry point of a streaming route over its ordinary Lambda handler: the same checks,
    idempotency and errors, with the answer streamed when the request asks for it, as `events`
    (Parley's events, or OpenAI's chunks). A replay of an Idempotency-Key answers the stored
    result as JSON, as it was first answered in full."""

    def handle(event: dict[str, Any], context: LambdaContext, writer: ResponseWriter) -> None:
        if not wants_stream(event):
            write_whole(writer, handler(event, context))
            return
        stream = events(event, writer, cors_headers(event, wiring.settings.allowed_origins))
        token = _listener.set(stream)
        try:
            result = handler(event, context)
        finally:
            _listener.reset(token)
        stream.finish(result)

    return handle
