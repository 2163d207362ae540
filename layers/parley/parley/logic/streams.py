"""Streams a client stops: a streamed answer goes on when its connection drops (a client
re-attaches, parley.edge.resumable), so stopping one is explicit."""

from __future__ import annotations

from parley.auth.principal import Principal
from parley.errors import StreamNotFound
from parley.models.api.streams import CancelledStream
from parley.store.stream_logs import StreamLogs, is_generation_id


def cancel_stream(principal: Principal, stream_id: str, *, logs: StreamLogs) -> CancelledStream:
    """Ask the caller's running generation to stop: it ends at its next logged run with the
    route's error event, storing nothing. A finished one is left as it is."""
    origin = logs.origin_soon(stream_id) if is_generation_id(stream_id) else None
    if origin is None or origin.points_to is not None or origin.owner != principal.user_id:
        raise StreamNotFound()
    if logs.finished(stream_id):
        return CancelledStream(id=stream_id, status="finished")
    logs.cancel(stream_id)
    return CancelledStream(id=stream_id, status="cancelling")
