"""Streams that survive a dropped connection. Every event of a streamed answer carries an SSE
`id: <generation>:<n>` (its generation, and its number from 0). While the answer is written, a
Recorder keeps its events in the generation's log (parley.store.stream_logs), coalesced into
runs (at most one write per FLUSH_SECONDS, or per FLUSH_BYTES of events, and one at the end).

A client that lost the stream sends its request again with `Last-Event-ID` (as EventSource
does), or with the same `Idempotency-Key`: it is re-attached to that generation, on any instance
and without generating or appending anything again, and gets the events after the one it names
(all of them, for the key), then the rest as they are logged, until the last. The re-attaching
caller must be the one who started the stream, with the same grants, on the same route.

A disconnect does not stop a generation; a cancel does (`POST /v1/streams/{id}/cancel`, or the
Responses API's own cancel): the stream reads its log's `cancelled` with each run and each beat
(twice a second), ends with the route's error event, and the generation stops at its model's
next piece, storing nothing and charged what it spent."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parley.edge.idempotency import HEADER as IDEMPOTENCY_HEADER
from parley.edge.idempotency import principal_fingerprint, route_key
from parley.edge.request import RequestView
from parley.errors import StreamNotFound
from parley.store.stream_logs import Run, StreamLogs, StreamOrigin, is_generation_id

FLUSH_SECONDS = 0.5
FLUSH_BYTES = 16 * 1024
CANCEL_CHECK_SECONDS = 1.0  # a running stream with nothing to write looks for a cancel this often
POLL_SECONDS = 0.25  # how often a re-attached stream reads the log of a running generation
ENDS_MARGIN_SECONDS = 30  # a generation past its function's deadline by this much has ended
HEARTBEAT = b": keep-alive\n\n"


def event_id(generation_id: str, number: int) -> bytes:
    return f"id: {generation_id}:{number}\n".encode()


def split_frames(data: bytes) -> list[bytes]:
    """SSE frames as written (each ends with a blank line; JSON data never holds a newline)."""
    return [frame + b"\n\n" for frame in data.split(b"\n\n") if frame]


def parse_last_event_id(value: str) -> tuple[str, int] | None:
    generation_id, _, number = value.strip().rpartition(":")
    if not is_generation_id(generation_id) or not number.isdigit():
        return None
    return generation_id, int(number)


def alias_for_key(event: dict[str, Any]) -> str | None:
    """The log alias of a request's Idempotency-Key: per caller's grants, route and key."""
    request = RequestView(event)
    key = request.header(IDEMPOTENCY_HEADER)
    if not key or request.method != "POST":
        return None
    grants = principal_fingerprint(request.authorizer)
    digest = hashlib.sha256(f"{route_key(event)}\n{key}\n{grants}".encode())
    return "key-" + digest.hexdigest()[:40]


def origin_of(event: dict[str, Any], ends_by: int) -> StreamOrigin:
    authorizer = RequestView(event).authorizer
    return StreamOrigin(
        owner=str(authorizer.get("sub") or ""),
        grants=principal_fingerprint(authorizer),
        route=route_key(event),
        ends_by=ends_by,
    )


def check_attachment(origin: StreamOrigin | None, event: dict[str, Any], route: str | None = None) -> None:
    """The re-attaching request's caller started the stream, with the same grants, on `route`
    (this request's own by default); another's stream reads as missing."""
    mine = origin_of(event, 0)
    same_caller = origin is not None and (origin.owner, origin.grants) == (mine.owner, mine.grants)
    if origin is None or not same_caller or origin.route != (route or mine.route):
        raise StreamNotFound()


class Recorder:
    """Keeps a stream's events in its log, coalesced; says when a cancel was asked."""

    def __init__(
        self, logs: StreamLogs, origin: StreamOrigin, alias: str | None = None, *, opened: bool = False
    ) -> None:
        """`opened`: the log's ~META was written when the work was queued (a background run)."""
        self.logs, self.origin, self.alias, self.opened = logs, origin, alias, opened
        self.generation_id = ""  # named when the stream opens
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.first = 0  # the number of the first pending event
        self.flushed_at = time.monotonic()
        self.cancelled = False
        self.lock = threading.RLock()
        self.origin_due = False  # the ~META is still to be written
        self.closed = False  # the last run is written

    def open(self, generation_id: str | None = None) -> None:
        """Name the stream (`generation_id`, or a new id when the route names none). Its log's
        ~META is written after the first events, not before them (`write_origin`: by the first
        run, or the heartbeat's first beat), so the time to the first token pays no write; a
        client re-attaching in that instant finds it (`StreamLogs.origin_soon`). An
        Idempotency-Key's alias is written first: a retry with the key finds it as soon as the
        first event is out."""
        self.generation_id = generation_id or uuid.uuid4().hex
        self.flushed_at = time.monotonic()
        if self.opened:
            return
        self.origin_due = True
        if self.alias is not None:
            self.logs.open(self.alias, self.origin, int(time.time()), points_to=self.generation_id)

    def write_origin(self) -> None:
        """The log's ~META, once (and never after the last run)."""
        with self.lock:
            if self.origin_due and not self.closed:
                self.logs.open(self.generation_id, self.origin, int(time.time()))
                self.origin_due = False

    def record(self, frame: bytes) -> None:
        with self.lock:
            self.pending.append(frame)
            self.pending_bytes += len(frame)

    def due(self) -> bool:
        """Whether a write (or, with nothing to write, a look for a cancel) is due."""
        since = time.monotonic() - self.flushed_at
        if not self.pending:
            return since >= CANCEL_CHECK_SECONDS
        return self.pending_bytes >= FLUSH_BYTES or since >= FLUSH_SECONDS

    def flush(self, final: bool = False) -> None:
        """Write the pending events as one run (with `final`, the run that ends the stream), and
        read whether a cancel was asked."""
        with self.lock:
            if self.closed:  # its last run is written: nothing more, whoever asks
                return
            self.write_origin()
            if self.pending or final:
                run = Run(self.first, self.pending, final)
                self.first += len(self.pending)
                self.pending, self.pending_bytes = [], 0
                self.logs.append(self.generation_id, run, int(time.time()))
                self.closed = final
            self.flushed_at = time.monotonic()
            if not final:
                origin = self.logs.origin(self.generation_id, consistent=False)
                self.cancelled = self.cancelled or (origin is not None and origin.cancelled)

    def forget_alias(self) -> None:
        """A failed answer releases its Idempotency-Key: a retry with it runs anew."""
        if self.alias is not None:
            self.logs.forget(self.alias)


@dataclass
class Follower:
    """A re-attached stream: the events after `after`, then the rest as they are logged."""

    logs: StreamLogs
    generation_id: str
    origin: StreamOrigin
    write: Callable[[bytes], None]  # raises OSError once the client is gone
    heartbeat_seconds: float
    stop_by: float  # monotonic time by which this invocation must have answered

    def follow(self, after: int) -> None:
        last, quiet_since = after, time.monotonic()
        while True:
            runs = self.logs.runs_after(self.generation_id, last)
            for run in runs:
                for offset, frame in enumerate(run.events):
                    number = run.first + offset
                    if number > last and frame:
                        self.write(event_id(self.generation_id, number) + frame)
                        last, quiet_since = number, time.monotonic()
                if run.final:
                    return
            now = time.monotonic()
            if time.time() > self.origin.ends_by + ENDS_MARGIN_SECONDS or now + POLL_SECONDS > self.stop_by:
                return  # the generation died, or this invocation must end: the client reconnects
            if now - quiet_since >= self.heartbeat_seconds:
                self.write(HEARTBEAT)
                quiet_since = now
            time.sleep(POLL_SECONDS)
