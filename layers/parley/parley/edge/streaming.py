"""Streamed answers as server-sent events, for the generating routes.

A request asks for a stream with `"stream": true` in its body or `Accept: text/event-stream`.
The route runs as it always does; an EventStream listens to the generation and writes
`context` (RAG), `delta`… as the provider sends them (and `tool_call` / `tool_result` for
the MCP tools Parley runs), then `done` carrying exactly the
non-streamed body, or `error`. Nothing is sent before the first piece of the answer, so an
error found before it (a 400, a 403, a provider refusing at once) is the ordinary JSON response
with its status. The transport is a ResponseWriter: the Lambda Web Adapter's HTTP connection in
AWS (parley.edge.web_adapter), the local gateway's chunked response under `make dev`. Every
event carries an `id:`, and is logged so that a client re-attaches (parley.edge.resumable);
a request that names a stream it lost is answered from that log (parley.edge.reattach)."""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge.cors import cors_headers, with_cors
from parley.edge.reattach import attachment_of, follow
from parley.edge.request import RequestView
from parley.edge.responses import error_result
from parley.edge.resumable import (
    FLUSH_SECONDS,
    HEARTBEAT,
    Recorder,
    alias_for_key,
    event_id,
    origin_of,
    split_frames,
)
from parley.edge.sse import (
    SSE_HEADERS,
    ResponseWriter,
    StreamingHandler,
    attempt,
    remaining_seconds,
    sse,
    write_whole,
)
from parley.errors import GenerationCancelled, ParleyError, StoreUnavailable
from parley.observability import logger
from parley.providers.base import Delta

if TYPE_CHECKING:
    from parley.wiring import Wiring

BEAT_SECONDS = FLUSH_SECONDS  # how often each stream's heartbeat, log and cancel are seen to


class Stream(Protocol):
    """The events of one streamed response: Parley's (EventStream) or OpenAI's chunks
    (parley.edge.openai_stream.ChunkStream)."""

    claimed: bool
    recorder: Recorder | None
    heartbeat_seconds: float
    stopped: threading.Event
    lock: threading.RLock
    ended: bool
    cancel_seen: bool

    def __init__(self, event: dict[str, Any], writer: ResponseWriter, cors: dict[str, str]) -> None: ...

    @staticmethod
    def shape(result: dict[str, Any]) -> dict[str, Any]:
        """An error result given before the stream began, in the route's error shape."""

    def context(self, chunks: list[Any]) -> None: ...

    def delta(self, delta: Delta) -> None: ...

    def finish(self, result: dict[str, Any]) -> None: ...

    def conclude(self, result: dict[str, Any]) -> None: ...


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


class StreamWriter:
    """The mechanics every streamed response shares: nothing is sent before the first piece (so
    an error found before it is an ordinary JSON response), then the status and SSE headers and
    what `opening` says comes first; a client that went away stops the writing, never the
    generation. `claimed`: the route took the stream (see stream_listener). With a Recorder
    (parley.edge.resumable) every event carries its `id:`, goes to the stream's log, and a
    heartbeat comment keeps an idle connection open; a cancel asked for ends the generation."""

    @staticmethod
    def shape(result: dict[str, Any]) -> dict[str, Any]:
        """An error result given before the stream began, in the route's error shape."""
        return result

    def __init__(self, event: dict[str, Any], writer: ResponseWriter, cors: dict[str, str]) -> None:
        self.event, self.writer, self.cors = event, writer, cors
        self.started = self.gone = self.claimed = False
        self.recorder: Recorder | None = None
        self.heartbeat_seconds = 0.0
        self.number = 0  # the next event's number
        self.lock = threading.RLock()
        self.last_write = time.monotonic()
        self.stopped = threading.Event()
        self.cancel_seen = False
        self.ended = False  # by a cancel, before the generation knew
        self.holding = False  # the last events wait for the log's last run (`conclude`)
        self.held = b""

    def opening(self) -> bytes:
        return b""

    def finish(self, result: dict[str, Any]) -> None:
        """End the stream with the route's result (each kind of stream its own way)."""
        raise NotImplementedError

    def generation_hint(self) -> str | None:
        """The id the stream's generation takes, when the route names one (a response id)."""
        return None

    def _send(self, data: bytes) -> None:
        recorder = self.recorder
        with self.lock:
            if self.ended:  # cancelled: the stream was ended for the generation
                raise GenerationCancelled()
            if not self.started:
                self.started = True
                data = self.opening() + data
                if recorder is not None:
                    recorder.open(self.generation_hint())
                    HEARTBEATS.add(self)
                self._write(lambda: self.writer.start(200, {**SSE_HEADERS, **self.cors}))
            out = b""
            for frame in split_frames(data):
                if recorder is not None:
                    recorder.record(frame)
                    out += event_id(recorder.generation_id, self.number)
                self.number += 1
                out += frame
            if out and self.holding:
                self.held += out
            elif out:
                self._write(lambda: self.writer.write(out))
        if recorder is None:
            return
        if recorder.due():
            attempt_flush(recorder)
        if recorder.cancelled and not self.cancel_seen:  # read by a flush, here or the heartbeat's
            self.cancel_seen = True
            raise GenerationCancelled()

    def _write(self, action: Callable[[], None]) -> None:
        self.last_write = time.monotonic()
        self.gone = self.gone or not attempt(action)

    def beat(self) -> bool:
        """One beat while the answer is written (HEARTBEATS calls it twice a second): the log's
        ~META once, a comment on a connection idle for heartbeat_seconds, the pending events
        written when due (a stalled provider loses none), and a cancel looked for; one found
        ends the stream at once, even while the provider is silent. False once it is over."""
        recorder = self.recorder
        if recorder is None or self.stopped.is_set():
            return False
        attempt_flush(recorder, origin_only=True)
        with self.lock:
            if self.ended:
                return False
            if time.monotonic() - self.last_write >= self.heartbeat_seconds and not self.gone:
                self._write(lambda: self.writer.write(HEARTBEAT))
        if recorder.due():
            attempt_flush(recorder)
        if recorder.cancelled:
            self._end_cancelled()
            return False
        return True

    def _end_cancelled(self) -> None:
        """The route's error event for a cancelled generation, and the log's last run; the
        generation, when its provider speaks again, finds the stream ended and stops."""
        with self.lock:
            if self.ended or self.cancel_seen or self.stopped.is_set():
                return
            self.cancel_seen = True
            cancelled = GenerationCancelled()
            self.conclude(self.shape(error_result(cancelled.status, cancelled.code, cancelled.message)))
            self.ended = True

    def conclude(self, result: dict[str, Any]) -> None:
        """End the stream with `result` (`finish`), its last events sent only once the log's last
        run holds them: a client that has the end can re-attach to all of it, and nothing is
        written for the stream after its client has its end. A failed answer releases the
        Idempotency-Key's alias."""
        self.holding = True
        try:
            self.finish(result)
        finally:
            self.holding = False
        recorder = self.recorder
        if recorder is not None and self.started:
            attempt_flush(recorder, final=True)
            if int(result["statusCode"]) >= 300:
                try:
                    recorder.forget_alias()
                except StoreUnavailable:
                    logger.warning("idempotency alias of a failed stream not released")
        held, self.held = self.held, b""
        if held:
            self._write(lambda: self.writer.write(held))


class Heartbeats:
    """One thread per container beats for the streams it writes (StreamWriter.beat), twice a
    second: started with the container's first stream, so no answer waits for a thread to start."""

    def __init__(self) -> None:
        self.streams: set[StreamWriter] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def add(self, stream: StreamWriter) -> None:
        with self.lock:
            self.streams.add(stream)
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="heartbeats", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(BEAT_SECONDS)
            with self.lock:
                streams = list(self.streams)
            for stream in streams:
                try:
                    going = stream.beat()
                except Exception:  # one stream's failure never stops the others' beats
                    logger.exception("a stream's heartbeat failed")
                    going = False
                if not going:
                    with self.lock:
                        self.streams.discard(stream)


HEARTBEATS = Heartbeats()


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


def attempt_flush(recorder: Recorder, final: bool = False, origin_only: bool = False) -> None:
    """Write the log's pending events (or, `origin_only`, its ~META); a log that cannot be
    written costs the resuming, never the answer (the client still gets every event, and the
    answer is still stored)."""
    try:
        if origin_only:
            recorder.write_origin()
        else:
            recorder.flush(final=final)
    except StoreUnavailable:
        logger.warning("stream log not written", extra={"generation": recorder.generation_id})


def streamed(
    handler: Callable[[dict[str, Any], LambdaContext], dict[str, Any]],
    wiring: Wiring,
    events: type[Stream] = EventStream,
) -> StreamingHandler:
    """The entry point of a streaming route over its ordinary Lambda handler: the same checks,
    idempotency and errors, with the answer streamed when the request asks for it, as `events`
    (Parley's events, or OpenAI's chunks), each event logged so that a client re-attaches
    (parley.edge.resumable). A replay of an Idempotency-Key whose stream log has expired answers
    the stored result as JSON, as it was first answered in full."""

    def handle(event: dict[str, Any], context: LambdaContext, writer: ResponseWriter) -> None:
        if not wants_stream(event):
            write_whole(writer, handler(event, context))
            return
        cors = cors_headers(event, wiring.settings.allowed_origins)
        try:
            attachment = attachment_of(event, wiring)
        except ParleyError as error:
            refusal = error_result(error.status, error.code, error.message)
            write_whole(writer, with_cors(event, events.shape(refusal), wiring.settings.allowed_origins))
            return
        if attachment is not None:
            generation_id, origin, after = attachment
            follow(
                wiring, generation_id, origin=origin, after=after, writer=writer, cors=cors, context=context
            )
            return
        stream = events(event, writer, cors)
        ends_by = int(time.time() + remaining_seconds(context))
        stream.recorder = Recorder(wiring.stream_logs, origin_of(event, ends_by), alias_for_key(event))
        run_recorded(stream, handler, event, context, wiring)

    return handle


def run_recorded(
    stream: Stream,
    handler: Callable[[dict[str, Any], LambdaContext], dict[str, Any]],
    event: dict[str, Any],
    context: LambdaContext,
    wiring: Wiring,
) -> dict[str, Any]:
    """Run the route with `stream` listening, end the stream with its result, and log its end."""
    stream.heartbeat_seconds = wiring.settings.stream_heartbeat_seconds
    token = _listener.set(stream)
    try:
        result = handler(event, context)
    finally:
        _listener.reset(token)
    with stream.lock:
        stream.stopped.set()
        if not stream.ended:
            stream.cancel_seen = True  # the route has its result: a cancel now changes nothing
            stream.conclude(result)
    return result
