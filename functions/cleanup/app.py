"""The hourly cleanup (EventBridge Scheduler): retention, purging deleted conversations, and
expired RAG chunks."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.logic.cleanup import scheduled_cleanup
from parley.observability import logger


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return scheduled_cleanup(event, context)
