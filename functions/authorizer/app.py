"""The REST API's Lambda REQUEST authorizer: verifies the caller's JWT (DESIGN §5)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.auth.authorizer import authorize
from parley.observability import logger
from parley.wiring import Wiring

wiring = Wiring()  # this container's: its JWKS keys are kept across invocations


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return authorize(event, wiring.token_verifier)
