"""The API Gateway REQUEST authorizer: a verified token becomes an Allow policy whose context
carries the principal; anything else becomes API Gateway's 401 (templated to {error, message})."""

from __future__ import annotations

from typing import Any

from parley.auth.principal import Principal
from parley.auth.tokens import TokenVerifier, token_from_request
from parley.config import settings
from parley.errors import Unauthorized
from parley.observability import logger

# API Gateway answers 401 UNAUTHORIZED only for an authorizer error with exactly this text.
UNAUTHORIZED = "Unauthorized"


def authorize(event: dict[str, Any]) -> dict[str, Any]:
    try:
        principal = TokenVerifier(settings()).verify(
            token_from_request(event.get("headers"), event.get("multiValueHeaders"))
        )
    except Unauthorized as refusal:
        logger.info("request refused by the authorizer", extra={"reason": refusal.message})
        raise Exception(UNAUTHORIZED) from None
    key = usage_key(principal)
    return {
        **({"usageIdentifierKey": key} if key else {}),
        "principalId": principal.user_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _whole_api(event["methodArn"]),
                }
            ],
        },
        "context": principal.to_context(),
    }


def usage_key(principal: Principal) -> str | None:
    """The API key whose usage plan meters this caller: its brand's own plan (the first of its
    brands, in order, that has one), else the default plan. None when no plans are deployed."""
    config = settings()
    if not config.usage_key_prefix:
        return None
    brand = next((b for b in sorted(principal.brands) if b in config.brands_with_usage_plans), None)
    return f"{config.usage_key_prefix}-brand-{brand}" if brand else f"{config.usage_key_prefix}-default"


def _whole_api(method_arn: str) -> str:
    """Allow every route of this API and stage: scopes are checked by each function, so a cached
    policy stays correct for any route the same token calls next."""
    api_arn, _, path = method_arn.partition("/")
    stage = path.split("/", 1)[0]
    return f"{api_arn}/{stage}/*"
