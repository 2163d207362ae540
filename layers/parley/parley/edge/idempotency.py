"""Idempotent retries: a POST with an `Idempotency-Key` header runs once per principal, route and key.
A retry gets the first response back and writes nothing new; the same key with a different body is
a 409 `idempotency_key_reused`; a retry while the first is still running, a 409 `request_in_progress`.

A record is keyed on everything its response depends on: the caller's grants (user, brands and
scopes, as the authorizer verified them for this request), the route with its ids normalised, and
the key. A replay is therefore only ever served to a principal that the first request's
authorization checks passed for; a token with other grants runs the request as a first request,
through every check of the route (a token that lost a brand gets the route's 403, never the
remembered answer).

Records live in the single table (`parley.store.idempotency_records`), one partition per caller
(`IDEMPOTENCY#<sub>`), and are remembered for IDEMPOTENCY_TTL_SECONDS (a day by default: longer
than any client's retry window). Only successful responses are remembered: a request that fails
(a 502 from a provider, a 503 from the store) releases its key, and the same key may try again at
once. A response that was produced is always the one answered, even when its record could not be
written (that is logged): the work is done, and the client is told so.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parley.edge.request import RequestView
from parley.edge.responses import error_result
from parley.errors import StoreUnavailable
from parley.ids import is_uuid
from parley.observability import logger

if TYPE_CHECKING:
    from parley.wiring import Wiring

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
LEASE_MARGIN_SECONDS = 5  # a claim outlives its attempt's deadline by this much
DEFAULT_LEASE_SECONDS = 900  # without a Lambda context: the longest function timeout


def route_key(event: dict[str, Any]) -> str:
    """The route as the function resolves it: the resource with its path ids filled in, UUIDs
    lower-cased (the use cases read `ABC…` and `abc…` as one id), so a retry that spells an id
    differently is still the same request."""
    route = str(event.get("resource") or event.get("path") or "")
    for name, raw in sorted((event.get("pathParameters") or {}).items()):
        value = str(raw)
        route = route.replace(f"{{{name}}}", value.lower() if is_uuid(value) else value)
    return f"{event.get('httpMethod')} {route}"


def principal_fingerprint(authorizer: dict[str, Any]) -> str:
    """A digest of the grants the authorizer verified: user, brands and scopes."""
    grants = {name: authorizer.get(name) for name in ("sub", "brands", "scope")}
    return hashlib.sha256(json.dumps(grants, sort_keys=True).encode()).hexdigest()


def _digest(*parts: str) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def idempotent(handler: Handler, wiring: Wiring) -> Handler:
    """Wrap a Lambda handler so its POSTs honour the Idempotency-Key header."""

    def wrapped(event: dict[str, Any], context: Any) -> dict[str, Any]:
        request = RequestView(event)
        key = request.header(HEADER)
        authorizer = request.authorizer
        caller = authorizer.get("sub")
        if request.method != "POST" or key is None or not caller:
            return handler(event, context)
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            return error_result(
                400, "invalid_request", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters."
            )
        # Imported here: only a POST that carries a key pays for it.
        from parley.store.idempotency_records import Busy, Claimed, RecordKey, Replay, Reused

        record = RecordKey(
            partition=f"IDEMPOTENCY#{caller}",
            digest=_digest(route_key(event), key, principal_fingerprint(authorizer)),
            body_digest=_digest(request.body),
            owner=uuid.uuid4().hex,
        )
        records = wiring.idempotency_records
        try:
            outcome = records.claim(record, _lease_seconds(context), wiring.settings.idempotency_ttl_seconds)
        except StoreUnavailable:
            logger.warning("idempotency record unavailable", exc_info=True)
            return error_result(
                503,
                "service_unavailable",
                "The idempotency record could not be read or written; nothing ran. Retry in a moment "
                "with the same key.",
                {"Retry-After": "1"},
            )
        if isinstance(outcome, Replay):
            return outcome.response
        if isinstance(outcome, Reused):
            return error_result(
                409,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request body; use a new key.",
            )
        if isinstance(outcome, Busy):
            return error_result(
                409,
                "request_in_progress",
                "A request with this Idempotency-Key is still running; retry it shortly.",
            )
        assert isinstance(outcome, Claimed)
        try:
            response = handler(event, context)
        except BaseException:
            records.release(record)
            raise
        if 200 <= int(response.get("statusCode", 500)) < 300:
            if not records.complete(record, response):
                logger.error("idempotency record not completed; the response is answered all the same")
        elif not records.release(record):
            logger.error("idempotency record not released; the key stays claimed until its lease ends")
        return response

    return wrapped


def _lease_seconds(context: Any) -> float:
    """As long as this attempt may still run (the Lambda's remaining time), and a margin."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        return float(remaining()) / 1000 + LEASE_MARGIN_SECONDS
    return DEFAULT_LEASE_SECONDS
