"""OpenSearch's `_bulk` read item by item: it answers 200 with `errors: true` and a status for
each action. Items rejected for load (429) are sent again, alone, with a growing pause; any other
refusal, a 429 past the attempts, or a request the cluster did not answer in time, raises
BulkRefused with the ids of the items that were done, so a caller can undo them by id. A request
that timed out is not sent again: it may have been applied."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from parley.errors import StoreUnavailable

BULK_ATTEMPTS = 4  # items rejected for load (429) are sent up to this many times in all
BULK_BACKOFF_SECONDS = 0.05


class BulkRefused(Exception):
    """A _bulk request that did not do everything: what it did, and the error to report."""

    def __init__(self, done: list[str], error: Exception) -> None:
        super().__init__(str(error))
        self.done = done
        self.error = error


def send_bulk(client: Any, actions: list[list[str]], *, wait_for_refresh: bool = False) -> list[str]:
    """Send `actions` (each its action line and, for an index, the document line); the ids of
    the documents they indexed or deleted (a delete of a document already gone is no refusal,
    and no id). With `wait_for_refresh` the cluster answers once a search sees them."""
    done: list[str] = []
    pending = actions
    options = {"refresh": "wait_for"} if wait_for_refresh else {}
    for attempt in range(BULK_ATTEMPTS):
        try:
            response = client.bulk(
                body="".join(line + "\n" for action in pending for line in action), **options
            )
        except Exception as error:
            raise BulkRefused(done, unavailable(error) or error) from error
        retry, refused = [], []
        for action, item in zip(pending, response["items"], strict=True):
            outcome = next(iter(item.values()))
            status = int(outcome.get("status", 500))
            if status < 300:
                done.append(str(outcome.get("_id")))
            elif status == 404 and "delete" in item:
                continue
            elif status == 429:
                retry.append(action)
            else:
                refused.append(outcome)
        if refused:
            raise BulkRefused(
                done,
                RuntimeError(
                    f"OpenSearch refused {len(refused)} of {len(pending)} bulk actions: "
                    f"{refused[0].get('error')}"
                ),
            )
        if not retry:
            return done
        pending = retry
        if attempt + 1 < BULK_ATTEMPTS:
            time.sleep(BULK_BACKOFF_SECONDS * 2**attempt)
    raise BulkRefused(
        done, StoreUnavailable("The vector store is overloaded (bulk rejections); retry in a moment.")
    )


def unavailable(error: Exception) -> StoreUnavailable | None:
    """The 503 for a cluster that could not be reached, did not answer in time, or answered that
    it is overloaded or failing (429, 5xx); None for any other error (a 4xx is the caller's)."""
    from opensearchpy.exceptions import ConnectionError as Unreachable
    from opensearchpy.exceptions import TransportError

    if isinstance(error, Unreachable):
        return StoreUnavailable("The vector store did not answer in time; retry in a moment.")
    status = error.status_code if isinstance(error, TransportError) else None
    if isinstance(status, int) and (status == 429 or status >= 500):
        return StoreUnavailable(f"The vector store answered HTTP {status}; retry in a moment.")
    return None


P = ParamSpec("P")
R = TypeVar("R")


def retryable(operation: Callable[P, R]) -> Callable[P, R]:
    """A cluster that is unreachable, too slow or overloaded is a 503 the client may retry."""

    @functools.wraps(operation)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return operation(*args, **kwargs)
        except BulkRefused as refusal:
            raise refusal.error from None
        except Exception as error:
            if (problem := unavailable(error)) is not None:
                raise problem from error
            raise

    return guarded
