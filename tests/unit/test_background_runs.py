"""What a background response hands its worker: the request's event with the authorizer's
verified context, never the caller's credentials or the Idempotency-Key the request answered;
and its stream log opened first, so the response's events can be read at once."""

from __future__ import annotations

from typing import Any

from parley.config import Settings
from parley.edge.background_runs import queue_for
from parley.store.stream_logs import StreamOrigin
from parley.wiring import Wiring


class Runner:
    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []

    def run(self, job: dict[str, Any]) -> None:
        self.jobs.append(job)


class Logs:
    def __init__(self) -> None:
        self.opened: list[tuple[str, StreamOrigin]] = []

    def open(self, generation_id: str, origin: StreamOrigin, now: int) -> None:
        self.opened.append((generation_id, origin))


def test_the_worker_gets_the_verified_request_without_credentials() -> None:
    runner, logs = Runner(), Logs()
    named = Settings(responses_background_function="ResponsesBackgroundFunction")
    wiring = Wiring(named, background=runner, stream_logs=logs)
    event = {
        "httpMethod": "POST",
        "resource": "/v1/responses",
        "body": '{"model": "parley-offline", "input": "hi", "background": true}',
        "headers": {
            "Authorization": "Bearer secret-token",
            "x-api-key": "secret-key",
            "Cookie": "session=secret-cookie",
            "Idempotency-Key": "once",
            "Content-Type": "application/json",
        },
        "requestContext": {"authorizer": {"sub": "alice", "brands": "acme", "scope": "ai:chat"}},
    }
    queue = queue_for(event, wiring)
    assert queue is not None

    queue("resp_0192f5c97d4e7a3b9c1d2e3f4a5b6c80")

    [job] = runner.jobs
    assert "secret" not in str(job) and "once" not in str(job)
    assert job["event"]["headers"] == {"Content-Type": "application/json"}
    assert job["event"]["requestContext"] == event["requestContext"] and job["event"]["body"] == event["body"]
    [(stream, origin)] = logs.opened
    assert stream == job["response_id"] and (origin.owner, origin.route) == ("alice", "POST /v1/responses")


def test_without_a_worker_there_is_no_queue() -> None:
    assert queue_for({}, Wiring(Settings(responses_background_function=""))) is None
