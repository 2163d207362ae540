"""One deadline for a whole provider call, the SDK's own retries and their waits included.

The SDKs retry on their own (the only retries Parley makes) and honour Retry-After: Anthropic's
for any length. Rather than running the call in a thread it cannot stop, the SDK's HTTP client
goes through `DeadlineTransport`: each attempt is given what is left of the deadline as its
timeouts, an attempt is never started once the deadline has passed, and a Retry-After is cut to
what is left (and to `MAX_RETRY_AFTER_SECONDS`). So the call returns or fails within the
deadline, in the request's own thread, and nothing keeps running after the answer: no retry
that the provider would bill and Parley would never meter.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import httpx2

# Longer waits than this are not worth it inside one synchronous API request.
MAX_RETRY_AFTER_SECONDS = 5.0


@dataclass
class _Deadline:
    ends: float  # time.monotonic()


_current: ContextVar[_Deadline | None] = ContextVar("provider_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Provider calls made inside this block end within `seconds` from now."""
    token = _current.set(_Deadline(time.monotonic() + seconds))
    try:
        yield
    finally:
        _current.reset(token)


def deadline_passed() -> bool:
    """Whether the current call ran out of time (its deadline passed, or the provider asked for
    a wait longer than what was left)."""
    current = _current.get()
    return current is not None and current.ends <= time.monotonic()


class DeadlineTransport(httpx2.BaseTransport):
    """Bounds every attempt an SDK makes by the deadline of the call it belongs to."""

    def __init__(self, inner: httpx2.BaseTransport | None = None) -> None:
        self.inner = inner or httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        current = _current.get()
        if current is None:
            return self.inner.handle_request(request)
        left = current.ends - time.monotonic()
        if left <= 0:
            return _out_of_time(request)
        timeouts = dict(request.extensions.get("timeout") or {})
        request.extensions["timeout"] = {
            phase: left if timeouts.get(phase) is None else min(float(timeouts[phase]), left)
            for phase in ("connect", "read", "write", "pool")
        }
        response = self.inner.handle_request(request)
        wait = _retry_after(response.headers)
        if wait is not None:
            for name in ("retry-after-ms", "retry-after"):
                if name in response.headers:
                    del response.headers[name]
            if wait >= current.ends - time.monotonic():
                current.ends = time.monotonic()  # waiting would outlast the deadline: give up now
                response.headers["x-should-retry"] = "false"
            else:
                response.headers["retry-after-ms"] = str(int(min(wait, MAX_RETRY_AFTER_SECONDS) * 1000))
        return response

    def close(self) -> None:
        self.inner.close()


def _out_of_time(request: httpx2.Request) -> httpx2.Response:
    """What the SDK sees for an attempt that would start after the deadline: a final 408 it does
    not retry (both SDKs obey `x-should-retry`), never a request to the provider."""
    return httpx2.Response(
        408,
        headers={"x-should-retry": "false", "content-type": "application/json"},
        json={"error": {"type": "timeout", "message": "the provider call's deadline has passed"}},
        request=request,
    )


def _retry_after(headers: httpx2.Headers) -> float | None:
    """The wait the SDK would take from these headers (`retry-after-ms` first, as the SDKs do)."""
    if (milliseconds := headers.get("retry-after-ms")) is not None:
        try:
            return float(milliseconds) / 1000
        except ValueError:
            pass
    if (seconds := headers.get("retry-after")) is not None:
        try:
            return float(seconds)
        except ValueError:
            return MAX_RETRY_AFTER_SECONDS  # an HTTP date: at least as long as Parley waits
    return None


def http_client() -> httpx2.Client:
    """An HTTP client for a provider SDK whose every attempt obeys the current deadline."""
    return httpx2.Client(transport=DeadlineTransport(), follow_redirects=True)
