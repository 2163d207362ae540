"""Feedback on answers: the conversation's user rates an assistant message up or down (with an
optional comment and reasons), changes the rating, or takes it back. Shared by the
conversations API and the chats API, each with its access policy (parley.logic.access)."""

from __future__ import annotations

from collections.abc import Container

from parley.auth.principal import CONVERSATIONS_WRITE, Principal
from parley.clock import Clock
from parley.config import Settings
from parley.errors import FeedbackNotFound, InvalidRequest, MessageNotFound, StoreUnavailable
from parley.logic.access import CONVERSATIONS, AccessPolicy
from parley.logic.limits import require_uuid
from parley.models.api.feedback import FeedbackIn
from parley.models.domain import Conversation, Feedback, timestamp
from parley.providers.registry import known_models
from parley.store.conversations import ConversationStore
from parley.store.feedback import FeedbackChanged, FeedbackStore

ATTEMPTS = 3
UNKNOWN_MODEL = "unknown"  # what a rating of an answer Parley did not serve counts for


def rate_message(
    principal: Principal,
    conversation_id: str,
    message_id: str,
    request: FeedbackIn,
    *,
    policy: AccessPolicy = CONVERSATIONS,
    conversations: ConversationStore,
    ratings: FeedbackStore,
    clock: Clock,
    config: Settings,
) -> Feedback:
    """Set (or replace) the rating of an assistant message; 200 with it."""
    conversation, message_id = _owned(principal, conversation_id, message_id, policy, conversations)
    message = ratings.message(conversation.id, message_id)
    if message is None:
        raise MessageNotFound(message_id)
    if message.role != "assistant":
        raise InvalidRequest(
            f"Only an assistant message can be rated; '{message_id}' is a {message.role} message.",
            code="not_an_answer",
        )
    model = rated_model(message.metadata, known_models(config))
    feedback = Feedback(
        rating=request.rating,
        comment=request.comment,
        reasons=request.reasons,
        updated_at=timestamp(clock.now()),
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
    policy: AccessPolicy = CONVERSATIONS,
    conversations: ConversationStore,
    ratings: FeedbackStore,
) -> None:
    conversation, message_id = _owned(principal, conversation_id, message_id, policy, conversations)
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
    principal: Principal,
    conversation_id: str,
    message_id: str,
    policy: AccessPolicy,
    store: ConversationStore,
) -> tuple[Conversation, str]:
    principal.require(CONVERSATIONS_WRITE)
    conversation_id = require_uuid(conversation_id, policy.conversation_param)
    message_id = require_uuid(message_id, policy.message_param)
    conversation = store.get(conversation_id)
    return policy.require_access(conversation_id, conversation, principal), message_id


def rated_model(metadata: dict[str, object], served: Container[str]) -> str:
    """The model a rating counts for in the brand's usage: one Parley serves. A message's
    metadata is the client's to write (an appended assistant message may say anything), so a
    name that is not a served model counts as `unknown`: the usage item stays bounded."""
    for name in (metadata.get("requested_model"), metadata.get("model")):
        if isinstance(name, str) and name in served:
            return name
    return UNKNOWN_MODEL
