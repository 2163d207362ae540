"""Idempotent retries: a POST with an `Idempotency-Key` header runs once per caller, route and key.
A retry gets the first response back and writes nothing new; the same key with a different body is
a 409 `idempotency_key_reused`; a retry while the first is still running, a 409 `request_in_progress`.

Records live in the single table (Powertools idempotency, DynamoDB persistence), one partition per
caller (`IDEMPOTENCY#<sub>`), and expire through the table's TTL attribute. Only successful
responses are remembered: after a failure (a 502 from a provider, say) the same key may try again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from parley.config import settings
from parley.store.dynamodb import dynamodb_client

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255


class _NotRemembered(Exception):
    """Carries a response that must not be replayed (not a 2xx) out of the idempotent call."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__("not remembered")
        self.response = response


def _json_error(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": code, "message": message}),
    }


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def idempotent(handler: Handler) -> Handler:
    """Wrap a Lambda handler so its POSTs honour the Idempotency-Key header."""

    def wrapped(event: dict[str, Any], context: Any) -> dict[str, Any]:
        key = _header(event, HEADER)
        caller = ((event.get("requestContext") or {}).get("authorizer") or {}).get("sub")
        if event.get("httpMethod") != "POST" or key is None or not caller:
            return handler(event, context)
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            return _json_error(
                400, "invalid_request", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters."
            )
        request = {"route": f"POST {event.get('path')}", "key": key, "body": event.get("body") or ""}
        # Imported here: only a POST that carries a key pays for the idempotency utility.
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        def run(request: dict[str, Any]) -> dict[str, Any]:
            response = handler(event, context)
            if not 200 <= int(response.get("statusCode", 500)) < 300:
                raise _NotRemembered(response)
            return response

        config = IdempotencyConfig(
            event_key_jmespath="[route, key]",
            payload_validation_jmespath="body",
            expires_after_seconds=settings().idempotency_ttl_seconds,
            raise_on_no_idempotency_key=True,
        )
        if hasattr(context, "get_remaining_time_in_millis"):
            config.register_lambda_context(context)
        persistence = DynamoDBPersistenceLayer(
            table_name=settings().table_name,
            key_attr="PK",
            sort_key_attr="SK",
            static_pk_value=f"IDEMPOTENCY#{caller}",
            expiry_attr="expires_at",
            boto3_client=dynamodb_client(),
        )
        try:
            result: dict[str, Any] = idempotent_function(
                data_keyword_argument="request", persistence_store=persistence, config=config
            )(run)(request=request)
            return result
        except _NotRemembered as failure:
            return failure.response
        except IdempotencyValidationError:
            return _json_error(
                409,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request body; use a new key.",
            )
        except IdempotencyAlreadyInProgressError:
            return _json_error(
                409,
                "request_in_progress",
                "A request with this Idempotency-Key is still running; retry it shortly.",
            )

    return wrapped
