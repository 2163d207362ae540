"""What Parley stores. A `Message` is also, field for field, the message object of the
conversations API documents (000 and 001), so it is served as it is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from parley.ids import created_at, uuid7

Role = Literal["user", "assistant", "system", "tool"]


class TokenUsage(BaseModel):
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)


class Feedback(BaseModel):
    """What the conversation's user said of an assistant message."""

    rating: Literal["up", "down"]
    comment: str | None = None
    reasons: list[str] | None = None
    updated_at: str


class Message(BaseModel):
    id: str = Field(
        description="UUIDv7: messages sort by creation time.", json_schema_extra={"format": "uuid"}
    )
    conversation_id: str = Field(json_schema_extra={"format": "uuid"})
    role: Role
    content: str
    tool_calls: list[Any] | None
    token_usage: TokenUsage | None
    metadata: dict[str, Any]
    created_at: str
    feedback: Feedback | None = Field(
        None, description="The user's rating of an assistant message, in history pages (null when none)."
    )

    @classmethod
    def new(
        cls,
        conversation_id: str,
        role: Role,
        content: str,
        *,
        tool_calls: list[Any] | None = None,
        token_usage: TokenUsage | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Message:
        """A message made now: its UUIDv7 id and `created_at` carry the same instant."""
        identifier = uuid7()
        return cls(
            id=str(identifier),
            conversation_id=conversation_id,
            role=role,
            content=content,
            tool_calls=tool_calls,
            token_usage=token_usage,
            metadata=metadata or {},
            created_at=timestamp(created_at(identifier)),
        )


class Conversation(BaseModel):
    id: str = Field(json_schema_extra={"format": "uuid"})
    user_id: str = Field(description="The owner: the `sub` of the token that created it.")
    brand_id: str | None
    title: str | None
    model: str
    system_prompt: str | None
    metadata: dict[str, Any]
    message_count: int = Field(ge=0)
    tools: list[dict[str, Any]] | None = Field(
        None, description="Tools offered on every chat-completion that declares none."
    )
    has_feedback: bool = Field(False, exclude=True)  # stored state, not part of the API
    created_at: str
    updated_at: str


class ConversationSummary(BaseModel):
    """A conversation as listed: what the user index holds, without the counters."""

    id: str = Field(json_schema_extra={"format": "uuid"})
    brand_id: str | None
    title: str | None
    model: str
    created_at: str


def timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC with milliseconds, as the API documents show: 2024-02-04T12:00:00.000Z."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
