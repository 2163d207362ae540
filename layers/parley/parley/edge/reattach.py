"""Requests that re-attach to a stream instead of running (parley.edge.resumable): one naming
the last event it has (`Last-Event-ID`), or bringing the Idempotency-Key of a logged stream, gets
the events after that one and then the rest; `GET /v1/responses/{id}?stream=true` reads a
response's stream by its id, or, its log gone, makes its events again from the stored response."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge.cors import cors_headers, with_cors
from parley.edge.request import RequestView
from parley.edge.responses import error_result
from parley.edge.resumable import (
    Follower,
    alias_for_key,
    check_attachment,
    event_id,
    parse_last_event_id,
    split_frames,
)
from parley.edge.sse import SSE_HEADERS, ResponseWriter, StreamingHandler, remaining_seconds, write_whole
from parley.errors import InvalidRequest, ParleyError, StreamNotFound
from parley.store.stream_logs import StreamOrigin, is_generation_id

if TYPE_CHECKING:
    from parley.edge.streaming import Stream
    from parley.wiring import Wiring

FOLLOW_MARGIN_SECONDS = 2.0  # a re-attached stream ends this long before its invocation must


def attachment_of(event: dict[str, Any], wiring: Wiring) -> tuple[str, StreamOrigin, int] | None:
    """The stream a request re-attaches to (its generation, origin, and the number of the last
    event the client has), by `Last-Event-ID` or by an Idempotency-Key whose stream is logged;
    None for a request to run. Another caller's stream, or an unknown one, is a StreamNotFound."""
    logs = wiring.stream_logs
    last_event = RequestView(event).header("last-event-id")
    if last_event is not None:
        parsed = parse_last_event_id(last_event)
        if parsed is None:
            raise InvalidRequest(
                "Last-Event-ID is not an event id Parley sent (`<generation>:<number>`).",
                code="invalid_last_event_id",
            )
        generation_id, after = parsed
    else:
        alias = alias_for_key(event)
        pointer = logs.origin(alias) if alias is not None else None
        if pointer is None or pointer.points_to is None:
            return None
        generation_id, after = pointer.points_to, -1
    origin = logs.origin_soon(generation_id)
    check_attachment(origin, event)
    assert origin is not None
    return generation_id, origin, after


def follow(
    wiring: Wiring,
    generation_id: str,
    *,
    origin: StreamOrigin,
    after: int,
    writer: ResponseWriter,
    cors: dict[str, str],
    context: LambdaContext,
) -> None:
    """Answer a re-attached request: the logged events after `after`, then the rest."""
    follower = Follower(
        wiring.stream_logs,
        generation_id,
        origin,
        writer.write,
        wiring.settings.stream_heartbeat_seconds,
        stop_by=time.monotonic() + remaining_seconds(context) - FOLLOW_MARGIN_SECONDS,
    )
    try:
        writer.start(200, {**SSE_HEADERS, **cors})
        follower.follow(after)
    except OSError:
        pass  # the client is gone again; it may re-attach once more


def resumed(
    handler: Callable[[dict[str, Any], LambdaContext], dict[str, Any]],
    wiring: Wiring,
    route: str,
    events: type[Stream],
) -> StreamingHandler:
    """The entry point of a route that reads a stream again by its id (`GET
    /v1/responses/{response_id}?stream=true&starting_after=n`): the events of the stream started
    on `route` after event n, then the rest; without `stream=true`, the ordinary handler."""

    def handle(event: dict[str, Any], context: LambdaContext, writer: ResponseWriter) -> None:
        query = event.get("queryStringParameters") or {}
        if str(query.get("stream", "")).lower() != "true":
            write_whole(writer, handler(event, context))
            return
        cors = cors_headers(event, wiring.settings.allowed_origins)
        try:
            generation_id = next(iter((event.get("pathParameters") or {}).values()), "")
            after = _starting_after(query.get("starting_after"))
            origin = wiring.stream_logs.origin(generation_id) if is_generation_id(generation_id) else None
            if origin is None:  # its log expired, it was never streamed, or it starts this moment
                stored = handler(event, context)
                if replayed_whole(stored, events, event=event, writer=writer, cors=cors, after=after):
                    return
                origin = wiring.stream_logs.origin_soon(generation_id)
                if origin is None:
                    missing = with_cors(event, _unknown(events), wiring.settings.allowed_origins)
                    write_whole(writer, stored if int(stored["statusCode"]) >= 300 else missing)
                    return
            check_attachment(origin, event, route=route)
        except ParleyError as error:
            refusal = error_result(error.status, error.code, error.message)
            write_whole(writer, with_cors(event, events.shape(refusal), wiring.settings.allowed_origins))
            return
        follow(wiring, generation_id, origin=origin, after=after, writer=writer, cors=cors, context=context)

    return handle


class _Collected:
    """A ResponseWriter that keeps what is written."""

    def __init__(self) -> None:
        self.data = b""

    def start(self, status: int, headers: dict[str, str]) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.data += data


def replayed_whole(
    stored: dict[str, Any],
    events: type[Stream],
    *,
    event: dict[str, Any],
    writer: ResponseWriter,
    cors: dict[str, str],
    after: int,
) -> bool:
    """A completed answer whose log is gone, streamed again from what was stored: the events it
    would have been, numbered from 0, after `after`. False for anything else."""
    body = json.loads(stored.get("body") or "null") if int(stored["statusCode"]) == 200 else None
    if not isinstance(body, dict) or body.get("status") != "completed":
        return False
    collected = _Collected()
    stream = events(event, collected, {})
    announce = getattr(stream, "announce", None)
    if announce is None:
        return False
    announce({**body, "status": "in_progress", "output": [], "usage": None})
    stream.claimed = True
    stream.finish(stored)
    try:
        writer.start(200, {**SSE_HEADERS, **cors})
        for number, frame in enumerate(split_frames(collected.data)):
            if number > after:
                writer.write(event_id(str(body["id"]), number) + frame)
    except OSError:
        pass
    return True


def _unknown(events: type[Stream]) -> dict[str, Any]:
    unknown = StreamNotFound()
    return events.shape(error_result(unknown.status, unknown.code, unknown.message))


def _starting_after(value: Any) -> int:
    if value is None:
        return -1
    if not str(value).isdigit():
        raise InvalidRequest("starting_after must be an event's sequence_number.", code="invalid_request")
    return int(value)
