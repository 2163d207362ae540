"""OPTIONS on any path: the CORS preflight, answered without the authorizer (browsers send no
credentials with it)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.edge.cors import preflight
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return preflight(event, wiring.settings.allowed_origins)
