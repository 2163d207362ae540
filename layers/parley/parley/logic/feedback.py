"""Feedback on answers: the conversation's user rates an assistant message up or down (with an
optional comment and reasons), changes the rating, or takes it back. Shared by the
conversations API (another user's conversation reads as missing) and the chats API (another
user's chat is a 403, as its document says)."""

from __future__ import annotations

from typing import Literal

from parley.auth.principal import CONVERSATIONS_WRITE, Principal
from parley.clock import utc_now
from parley.errors import (
    ChatNotFound,
    ConversationNotFound,
    FeedbackNotFound,
    Forbidden,
    InvalidRequest,
    MessageNotFound,
    StoreUnavailable,
)
from parley.logic.limits import require_uuid
from parley.models.api.feedback import FeedbackIn
from parley.models.domain import Conversation, Feedback, timestamp
from parley.store.conversations import ConversationStore, conversation_store
from parley.store.feedback import FeedbackChanged, FeedbackStore, feedback_store

Api = Literal["conversations", "chats"]
ATTEMPTS = 3


def rate_message(
    principal: Principal,
    conversation_id: str,
    message_id: str,
    request: FeedbackIn,
    *,
    api: Api = "conversations",
    conversations: ConversationStore | None = None,
    ratings: FeedbackStore | None = None,
) -> Feedback:
    """Set (or replace) the rating of an assistant message; 200 with it."""
    ratings = ratings or feedback_store()
    conversation, message_id = _owned(principal, conversation_id, message_id, api, conversations)
    message = ratings.message(conversation.id, message_id)
    if message is None:
        raise MessageNotFound(message_id)
    if message.role != "assistant":
        raise InvalidRequest(
            f"Only an assistant message can be rated; '{message_id}' is a {message.role} message.",
            code="not_an_answer",
        )
    model = str(message.metadata.get("requested_model") or message.metadata.get("model") or "unknown")
    feedback = Feedback(
        rating=request.rating,
        comment=request.comment,
        reasons=request.reasons,
        updated_at=timestamp(utc_now()),
    )
    for _ in range(ATTEMPTS):
        previous = ratings.rating(conversation.id, message_id)
        try:
            ratings.put(
                conversation.id,
                message_id,
                feedback,
                model=model,
                brand_id=conversation.brand_id,
                previous=previous,
                mark_conversation=not conversation.has_feedback,
            )
            return feedback
        except FeedbackChanged:
            continue
    raise StoreUnavailable("The rating is being changed by other requests; retry in a moment.")


def remove_rating(
    principal: Principal,
    conversation_id: str,
    message_id: str,
    *,
    api: Api = "conversations",
    conversations: ConversationStore | None = None,
    ratings: FeedbackStore | None = None,
) -> None:
    ratings = ratings or feedback_store()
    conversation, message_id = _owned(principal, conversation_id, message_id, api, conversations)
    for _ in range(ATTEMPTS):
        previous = ratings.rating(conversation.id, message_id)
        if previous is None:
            raise FeedbackNotFound(message_id)
        try:
            ratings.delete(conversation.id, message_id, brand_id=conversation.brand_id, previous=previous)
            return
        except FeedbackChanged:
            continue
    raise StoreUnavailable("The rating is being changed by other requests; retry in a moment.")


def _owned(
    principal: Principal, conversation_id: str, message_id: str, api: Api, store: ConversationStore | None
) -> tuple[Conversation, str]:
    principal.require(CONVERSATIONS_WRITE)
    path = "chatId" if api == "chats" else "conversation_id"
    conversation_id = require_uuid(conversation_id, path)
    message_id = require_uuid(message_id, "messageId" if api == "chats" else "message_id")
    conversation = (store or conversation_store()).get(conversation_id)
    if conversation is None:
        raise ChatNotFound(conversation_id) if api == "chats" else ConversationNotFound(conversation_id)
    if conversation.user_id != principal.user_id:
        if api == "chats":
            raise Forbidden("This chat belongs to another user.")
        raise ConversationNotFound(conversation_id)
    return conversation, message_id
