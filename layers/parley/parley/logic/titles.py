"""Titles: a conversation created without one is titled after its first exchange by a short,
metered model call, inline (a few tokens, written after the exchange); the user may ask for
another (`POST /v1/conversations/{id}/title`). A title the user set is never replaced."""

from __future__ import annotations

from parley.auth.principal import AI_CHAT, CONVERSATIONS_WRITE, Principal
from parley.config import Settings
from parley.errors import Conflict, ConversationNotFound, ParleyError
from parley.logic.access import CONVERSATIONS
from parley.logic.generation import Generation, Generator
from parley.logic.limits import require_uuid
from parley.models.domain import Conversation, Message
from parley.observability import logger
from parley.providers.base import ChatRequest, PromptMessage
from parley.providers.registry import model_spec
from parley.store.conversations import ConversationStore

INSTRUCTIONS = (
    "Write a title for this conversation: at most six words, in the conversation's language, "
    "no quotes, no final period. Answer with the title only."
)
MAX_TITLE_CHARS = 80
EXCERPT_CHARS = 1_000  # of each message the title is made from
RECENT = 10  # messages a regenerated title reads


def title_for(
    conversation: Conversation, messages: list[Message], generation: Generation, config: Settings
) -> str | None:
    """A title from the first exchange (the earliest user and assistant messages); None when the
    model gives nothing usable. The tokens go on the generation's meter."""
    spec = model_spec(config.title_model or conversation.model, config)
    excerpt = [m for m in messages if m.role in ("user", "assistant")][:2]
    if not excerpt:
        return None
    request = ChatRequest(
        model=spec.id,
        system_prompt=INSTRUCTIONS,
        messages=[
            PromptMessage("user", "\n\n".join(f"{m.role}: {m.content[:EXCERPT_CHARS]}" for m in excerpt))
        ],
        max_tokens=24,
        temperature=0,
        task="title",
    )
    completion, _ = generation.call(spec, request, streamed=False)
    return cleaned(completion.content)


def cleaned(text: str) -> str | None:
    """The first line, without quotes, markup or a final period, at most MAX_TITLE_CHARS."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    line = line.strip().strip("\"'`*#").strip().removeprefix("Title:").strip().rstrip(".")
    if len(line) > MAX_TITLE_CHARS:
        line = line[:MAX_TITLE_CHARS].rsplit(" ", 1)[0]
    return line or None


def title_after_first_exchange(
    conversation: Conversation, messages: list[Message], generation: Generation, config: Settings
) -> str | None:
    """For an untitled conversation, its title (None when it has one, or the call failed: a title
    never costs the exchange; the next one tries again)."""
    if conversation.title is not None or not config.conversation_titles:
        return None
    try:
        return title_for(conversation, messages, generation, config)
    except ParleyError as failure:
        logger.info("no title this time", extra={"error": failure.code})
        return None
    except Exception as failure:  # the answer is generated and paid for: a title never costs it
        logger.exception("no title this time", extra={"error": type(failure).__name__})
        return None


def regenerate_title(
    principal: Principal,
    conversation_id: str,
    *,
    store: ConversationStore,
    generator: Generator,
    config: Settings,
) -> Conversation:
    """A new title for a conversation Parley titled (or left untitled); 409 for a title the user
    set, 404 for someone else's conversation."""
    principal.require(CONVERSATIONS_WRITE)
    principal.require(AI_CHAT)
    conversation_id = require_uuid(conversation_id, "conversation_id")
    conversation = store.get(conversation_id)
    conversation = CONVERSATIONS.require_access(conversation_id, conversation, principal)
    if conversation.title is not None and not conversation.title_generated:
        raise _set_by_user()
    page = store.history(conversation_id, RECENT)  # titled by what it is about now
    messages = page.messages if page else []
    if not messages:
        raise Conflict("The conversation has no messages to title yet.", code="nothing_to_title")
    generation = generator.open(conversation.brand_id, principal)
    title = title_for(conversation, messages, generation, config)
    generation.settle_alone()
    if title is None:
        raise Conflict("The model gave no usable title; try again.", code="no_title")
    if not store.set_title(conversation_id, title):
        if store.get(conversation_id) is None:
            raise ConversationNotFound(conversation_id)
        raise _set_by_user()
    return conversation.model_copy(update={"title": title, "title_generated": True})


def _set_by_user() -> Conflict:
    return Conflict(
        "The conversation's title was set by its user; Parley never replaces it.", code="title_set_by_user"
    )
