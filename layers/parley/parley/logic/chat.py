"""Generating the assistant's reply to a conversation: prompt from history, one provider call."""

from __future__ import annotations

from parley.ids import created_at, uuid7
from parley.models.domain import Conversation, Message, timestamp
from parley.providers.base import ChatRequest, Completion, PromptMessage
from parley.providers.provider_for import provider_for
from parley.providers.registry import model_spec


def generate_reply(conversation: Conversation, history: list[Message], model: str | None = None) -> Message:
    """The assistant message answering `history` (chronological, the newest last). Nothing is
    stored here: the caller writes the reply together with the message it answers."""
    spec = model_spec(model or conversation.model)
    request = ChatRequest(
        model=spec.id,
        system_prompt=conversation.system_prompt,
        messages=[PromptMessage(m.role, m.content, m.tool_calls) for m in history],
        max_tokens=spec.max_output_tokens,
    )
    completion = provider_for(spec).complete(request)
    return assistant_message(conversation.id, completion)


def assistant_message(conversation_id: str, completion: Completion) -> Message:
    identifier = uuid7()
    return Message(
        id=str(identifier),
        conversation_id=conversation_id,
        role="assistant",
        content=completion.content,
        tool_calls=completion.tool_calls,
        token_usage=completion.usage,
        metadata={
            **completion.metadata,
            "model": completion.model,
            "finish_reason": completion.finish_reason,
        },
        created_at=timestamp(created_at(identifier)),
    )
