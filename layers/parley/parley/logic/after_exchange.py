"""What an exchange leaves for after it is stored: never at its cost."""

from __future__ import annotations

from botocore.exceptions import ClientError

from parley.errors import StoreUnavailable
from parley.models.domain import Message, RunningSummary
from parley.observability import logger
from parley.store.conversations import ConversationStore


def after_exchange(
    store: ConversationStore,
    conversation_id: str,
    answer: Message,
    title: str | None,
    summary: RunningSummary | None,
) -> None:
    """What an exchange leaves for after it is stored, so neither can cost it: a generated title,
    a running summary extended for its prompt. The exchange is stored and answered whatever
    happens here: a failed write is logged, and the next exchange makes them again."""
    try:
        if title is not None:
            store.set_title(conversation_id, title)
        if summary is not None:
            store.set_summary(conversation_id, summary, top=answer.id)
    except (StoreUnavailable, ClientError) as failure:
        logger.warning(
            "title or summary not stored after the exchange", extra={"error": type(failure).__name__}
        )
