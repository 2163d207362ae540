"""The hourly cleanup (EventBridge Scheduler): retention, purging deleted conversations, and
expired RAG chunks. The clock is the schedule's: the event's `time` is now."""

from dataclasses import asdict
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.logic.cleanup import run_cleanup
from parley.observability import logger
from parley.store.lifecycle import ConversationLifecycle
from parley.wiring import Wiring

wiring = Wiring()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    report = run_cleanup(
        now,
        lambda: context.get_remaining_time_in_millis() / 1000,
        lifecycle=ConversationLifecycle(wiring.conversations),
        vectors=wiring.vectors,
        config=wiring.settings,
    )
    logger.info("cleanup run", extra=asdict(report))
    return asdict(report)
