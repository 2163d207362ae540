"""Background responses at the edge. The request queues the work: it opens the response's stream
log (so `GET /v1/responses/{id}?stream=true` may read it at once) and hands its own event, less
its Idempotency-Key (the request already answered it) and credentials, to the worker function. The worker runs
the same route over that event, its events going to the log alone, and records how a response
that did not finish ended (`failed`, or `cancelled`)."""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge.idempotency import HEADER as IDEMPOTENCY_HEADER
from parley.edge.resumable import Recorder, origin_of
from parley.edge.sse import remaining_seconds
from parley.edge.streaming import Stream, run_recorded

if TYPE_CHECKING:
    from parley.wiring import Wiring

# What the worker is not handed: the key the request answered, and the caller's credentials (the
# authorizer's verified context, in the event, is what the route reads).
LEFT_BEHIND = frozenset({IDEMPOTENCY_HEADER, "authorization", "x-api-key", "cookie"})
WORKER_TIMEOUT_SECONDS = 900
QUEUE_SECONDS = 300  # how long a queued run may wait for the worker before its log says it died

Ended = Callable[[str, str, dict[str, Any]], None]  # (response id, status, error)
_job: contextvars.ContextVar[str | None] = contextvars.ContextVar("background_job", default=None)


def background_job() -> str | None:
    """In the worker: the id of the queued response it answers."""
    return _job.get()


def queue_for(event: dict[str, Any], wiring: Wiring) -> Callable[[str], None] | None:
    """How the request queues a background response (None: the deployment runs none)."""
    if not wiring.settings.responses_background_function:
        return None

    def queue(response_id: str) -> None:  # the Lambda client is made here: only a queued request pays
        now = int(time.time())
        origin = origin_of(event, now + QUEUE_SECONDS + WORKER_TIMEOUT_SECONDS)
        wiring.stream_logs.open(response_id, origin, now)
        headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() not in LEFT_BEHIND}
        job_event = {**event, "headers": headers, "multiValueHeaders": None}
        runner = wiring.background
        assert runner is not None  # the function is named
        runner.run({"event": job_event, "response_id": response_id})

    return queue


class Unread:
    """The worker's stream has no client: its events go to the log only."""

    def start(self, status: int, headers: dict[str, str]) -> None:
        pass

    def write(self, data: bytes) -> None:
        pass


def worker(
    handler: Callable[[dict[str, Any], LambdaContext], dict[str, Any]],
    wiring: Wiring,
    events: type[Stream],
    ended: Ended,
) -> Callable[[dict[str, Any], LambdaContext], None]:
    """The worker's entry point: the route run over the queued request, as that response."""

    def handle(job: dict[str, Any], context: LambdaContext) -> None:
        event, response_id = job["event"], str(job["response_id"])
        stream = events(event, Unread(), {})
        ends_by = int(time.time() + remaining_seconds(context))
        stream.recorder = Recorder(wiring.stream_logs, origin_of(event, ends_by), opened=True)
        token = _job.set(response_id)
        try:
            result = run_recorded(stream, handler, event, context, wiring)
        finally:
            _job.reset(token)
        if int(result["statusCode"]) >= 300:
            error = (json.loads(result.get("body") or "{}") or {}).get("error") or {}
            code = error.get("code") if isinstance(error, dict) else None
            ended(response_id, "cancelled" if code == "generation_cancelled" else "failed", error)

    return handle
