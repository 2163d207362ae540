"""The API Gateway REQUEST authorizer: a verified token becomes an Allow policy whose context
carries the principal; anything else becomes API Gateway's 401 (templated to {error, message})."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    parse_api_gateway_arn,
)

from parley.auth.principal import Principal
from parley.auth.tokens import TokenVerifier, token_from_request
from parley.config import Settings
from parley.errors import TokenExpired, Unauthorized
from parley.observability import logger

# API Gateway answers 401 UNAUTHORIZED only for an authorizer error with exactly this text.
UNAUTHORIZED = "Unauthorized"


def authorize(event: dict[str, Any], verifier: TokenVerifier) -> dict[str, Any]:
    """Allow every route of this API and stage: scopes are checked by each function, so a cached
    policy stays correct for any route the same token calls next."""
    arn = parse_api_gateway_arn(event["methodArn"])
    try:
        principal = verifier.verify(token_from_request(event.get("headers"), event.get("multiValueHeaders")))
    except TokenExpired as expired:
        # API Gateway's 401 carries no reason; a Deny does, through the ACCESS_DENIED response
        # (a 401 in the template, the one Deny this authorizer gives): the client learns to renew.
        logger.info("request refused by the authorizer", extra={"reason": expired.message})
        denied = APIGatewayAuthorizerResponse(
            principal_id="expired-token",
            region=arn.region,
            aws_account_id=arn.aws_account_id,
            api_id=arn.api_id,
            stage=arn.stage,
            context={"message": expired.message},
            partition=arn.partition,
        )
        denied.deny_all_routes()
        return denied.asdict()
    except Unauthorized as refusal:
        logger.info("request refused by the authorizer", extra={"reason": refusal.message})
        raise Exception(UNAUTHORIZED) from None
    policy = APIGatewayAuthorizerResponse(
        principal_id=principal.user_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context=principal.to_context(),
        usage_identifier_key=usage_key(principal, verifier.settings),
        partition=arn.partition,
    )
    policy.allow_all_routes()
    return policy.asdict()


def usage_key(principal: Principal, config: Settings) -> str | None:
    """The API key whose usage plan meters this caller: its brand's own plan (the first of its
    brands, in order, that has one), else the default plan. None when no plans are deployed."""
    if not config.usage_key_prefix:
        return None
    brand = next((b for b in sorted(principal.brands) if b in config.brands_with_usage_plans), None)
    return f"{config.usage_key_prefix}-brand-{brand}" if brand else f"{config.usage_key_prefix}-default"
