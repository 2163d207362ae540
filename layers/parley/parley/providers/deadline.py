"""An overall deadline on a provider call. The SDKs retry on their own (the only retries Parley
makes) and honour Retry-After for up to minutes; the deadline keeps the whole call, waits included,
inside the function's timeout, so the client gets Parley's 504 rather than API Gateway's."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from parley.errors import ProviderTimeout

T = TypeVar("T")

# A call past its deadline keeps its thread until the SDK gives up; the pool bounds how many.
_calls = ThreadPoolExecutor(max_workers=8, thread_name_prefix="provider-call")


def within(seconds: float, label: str, call: Callable[[], T]) -> T:
    future = _calls.submit(call)
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        future.cancel()
        raise ProviderTimeout(
            f"{label} did not answer within {seconds:g} s; nothing was stored, so the request can be retried."
        ) from None
