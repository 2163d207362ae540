"""Idempotent retries: a POST with an `Idempotency-Key` header runs once per principal, route and key.
A retry gets the first response back and writes nothing new; the same key with a different body is
a 409 `idempotency_key_reused`; a retry while the first is still running, a 409 `request_in_progress`.

A record is keyed on everything its response depends on: the caller's grants (user, brands and
scopes, as the authorizer verified them for this request), the route with its ids normalised, and
the key. A replay is therefore only ever served to a principal that the first request's
authorization checks passed for; a token with other grants runs the request as a first request,
through every check of the route (a token that lost a brand gets the route's 403, never the
remembered answer).

Records live in the single table (Powertools idempotency, DynamoDB persistence), one partition per
caller (`IDEMPOTENCY#<sub>`), and expire through the table's TTL attribute. Only successful
responses are remembered: after a failure (a 502 from a provider, say) the same key may try again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parley.ids import is_uuid
from parley.observability import logger
from parley.responses import error_result

if TYPE_CHECKING:
    from parley.wiring import Wiring

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255


class _NotRemembered(Exception):
    """Carries a response that must not be replayed (not a 2xx) out of the idempotent call."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__("not remembered")
        self.response = response


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


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def idempotent(handler: Handler, wiring: Wiring) -> Handler:
    """Wrap a Lambda handler so its POSTs honour the Idempotency-Key header."""

    def wrapped(event: dict[str, Any], context: Any) -> dict[str, Any]:
        key = _header(event, HEADER)
        authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
        caller = authorizer.get("sub")
        if event.get("httpMethod") != "POST" or key is None or not caller:
            return handler(event, context)
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            return error_result(
                400, "invalid_request", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters."
            )
        request = {
            "route": route_key(event),
            "key": key,
            "principal": principal_fingerprint(authorizer),
            "body": event.get("body") or "",
        }
        # Imported here: only a POST that carries a key pays for the idempotency utility.
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        def run(request: dict[str, Any]) -> dict[str, Any]:
            response = handler(event, context)
            if not 200 <= int(response.get("statusCode", 500)) < 300:
                raise _NotRemembered(response)
            return response

        config = IdempotencyConfig(
            event_key_jmespath="[route, key, principal]",
            payload_validation_jmespath="body",
            expires_after_seconds=wiring.settings.idempotency_ttl_seconds,
            raise_on_no_idempotency_key=True,
        )
        if hasattr(context, "get_remaining_time_in_millis"):
            config.register_lambda_context(context)
        persistence = DynamoDBPersistenceLayer(
            table_name=wiring.settings.table_name,
            key_attr="PK",
            sort_key_attr="SK",
            static_pk_value=f"IDEMPOTENCY#{caller}",
            expiry_attr="expires_at",
            boto3_client=wiring.dynamodb,
        )
        try:
            result: dict[str, Any] = idempotent_function(
                data_keyword_argument="request", persistence_store=persistence, config=config
            )(run)(request=request)
            return result
        except _NotRemembered as failure:
            return failure.response
        except IdempotencyValidationError:
            return error_result(
                409,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request body; use a new key.",
            )
        except IdempotencyAlreadyInProgressError:
            return error_result(
                409,
                "request_in_progress",
                "A request with this Idempotency-Key is still running; retry it shortly.",
            )
        except IdempotencyPersistenceLayerError:
            logger.warning("idempotency record unavailable", exc_info=True)
            return error_result(
                503,
                "service_unavailable",
                "The idempotency record could not be read or written; retry in a moment with the same key.",
                {"Retry-After": "1"},
            )

    return wrapped
