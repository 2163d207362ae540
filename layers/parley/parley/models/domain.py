"""What Parley stores. A `Message` is also, field for field, the message object of the
conversations API documents (000 and 001), so it is served as it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from parley.ids import created_at, uuid7

Role = Literal["user", "assistant", "system", "tool"]
UNKNOWN_PARENT = ""  # a message's parent_id when it was written without reading which that is


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


class Branch(BaseModel):
    """Where a message stands among its siblings (the answers to the same turns, the versions of
    an edited question): a UI shows "< index/count >" and switches with PATCH active_message_id
    to `previous_id` or `next_id`."""

    index: int = Field(ge=1, description="1-based, in the order the siblings were made.")
    count: int = Field(ge=1)
    previous_id: str | None = Field(
        None,
        description="The sibling made just before it (null for the first).",
        json_schema_extra={"format": "uuid"},
    )
    next_id: str | None = Field(
        None,
        description="The sibling made just after it (null for the newest).",
        json_schema_extra={"format": "uuid"},
    )


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
    parent_id: str | None = Field(
        None,
        description="The message this one follows (null for the first of its branch). A plain append "
        "(mode append, no parent_id) is written without reading the conversation, so its response "
        "leaves this out; the history shows it.",
        json_schema_extra={"format": "uuid"},
        exclude_if=lambda parent_id: parent_id == UNKNOWN_PARENT,
    )
    branch: Branch | None = Field(None, description="Its siblings: in history pages and replies.")

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


class RunningSummary(BaseModel):
    """What no longer fits the prompt of the active branch, folded into a summary that the prompt
    carries before the turns that fit; extended as more falls out, never rewritten whole."""

    content: str
    through_message_id: str = Field(
        description="The last message it covers: the branch's messages up to this one.",
        json_schema_extra={"format": "uuid"},
    )
    updated_at: str


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
    active_message_id: str | None = Field(
        None,
        description="The newest message of the active branch (null before the first message).",
        json_schema_extra={"format": "uuid"},
    )
    summary: RunningSummary | None = Field(
        None, description="The running summary of the active branch, once its start no longer fits."
    )
    assistant_id: str | None = Field(
        None,
        description="The assistant whose model, prompt, retrieval and tools its chat-completions use.",
        exclude_if=lambda assistant_id: assistant_id is None,
    )
    active_recorded: bool = Field(False, exclude=True)  # ~META names the active message (stored state)
    has_feedback: bool = Field(False, exclude=True)  # stored state, not part of the API
    title_generated: bool = Field(False, exclude=True)  # Parley wrote the title: it may again
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


# Usage, budgets and documents: what the use cases and the stores both speak of.
Scope = Literal["user", "brand"]


@dataclass
class ModelUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    calls: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    guardrail_text_units: int = 0
    rerank_queries: int = 0
    ratings_up: int = 0
    ratings_down: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class ToolUsage:
    """The calls of MCP servers' tools Parley made (parley.logic.tool_loop)."""

    calls: int = 0
    errors: int = 0  # of calls: those that ended in an error (the server's, a timeout, ...)
    duration_ms: int = 0  # their time together


@dataclass(frozen=True)
class Charge:
    """What one request's generations add to a day's usage, and the budgets (0: none) it must
    still be under. `models` maps a model id to what the calls to it used; `tools`: the calls
    of MCP servers' tools Parley made."""

    brand_id: str | None
    user_id: str
    day: str  # YYYY-MM-DD, UTC
    models: dict[str, ModelUsage]
    user_budget: int = 0
    brand_budget: int = 0
    tools: ToolUsage = field(default_factory=ToolUsage)

    @property
    def total_tokens(self) -> int:
        return sum(usage.total_tokens for usage in self.models.values())

    @property
    def cost_usd(self) -> Decimal:
        return sum((usage.cost_usd for usage in self.models.values()), Decimal(0))


class BudgetSpent(Exception):
    """A counter's budget was already spent when the charge was written; nothing was written."""

    def __init__(self, scope: Scope) -> None:
        super().__init__(f"the {scope}'s daily budget is spent")
        self.scope: Scope = scope


@dataclass(frozen=True)
class QuotaOverride:
    """A brand's own budgets; None keeps the configured default, 0 means no limit."""

    user_daily_tokens: int | None = None
    brand_daily_tokens: int | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class DocumentRecord:
    brand_id: str
    rag_scope: str
    document_id: str
    version: int
    status: str
    chunks: int
    updated_at: str
    store_keys: list[str] = field(default_factory=list)
    title: str | None = None
    bytes: int | None = None
    content_type: str | None = None
    filename: str | None = None
    error: str | None = None
    expires_at: str | None = None  # ISO 8601; kept as the table's TTL attribute (epoch seconds)
    pages: int | None = None
    upload_id: str | None = None  # the latest upload of the file (a newer one supersedes it)
    upload_key: str | None = None  # where that upload is stored
    metadata_json: str | None = None  # the client's metadata and title for the pending upload
