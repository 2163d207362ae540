"""Bodies of the conversations API (`/v1/conversations`): documents 000 and 001, and the
conversation resource around them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from parley.models.api.tools import ToolChoice, Tools
from parley.models.domain import Conversation, ConversationSummary, Message, Role

Mode = Literal["append", "chat-completion"]

MAX_METADATA_KEYS = 64


class McpApprovalResponse(BaseModel):
    """The user's answer to an `mcp_approval_request` of the assistant message the new message
    follows (docs/tools.md), in OpenAI's item shape."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["mcp_approval_response"] = "mcp_approval_response"
    approval_request_id: str = Field(min_length=1, max_length=300)
    approve: bool
    reason: str | None = Field(None, max_length=1000, description="Why, if denied: the model reads it.")


class AppendMessageRequest(BaseModel):
    """Document 000's request body. Unknown fields are ignored, as that schema allows them."""

    # `mode: chat-completion` answers a user message, or a tool message naming the call it answers.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"mode": {"const": "chat-completion"}}, "required": ["mode"]},
            "then": {
                "properties": {"role": {"enum": ["user", "tool"]}},
                "if": {"properties": {"role": {"const": "tool"}}},
                "then": {"required": ["tool_call_id"], "properties": {"tool_call_id": {"type": "string"}}},
            },
        }
    )

    role: Role
    content: str = Field(min_length=1)
    mode: Mode = "append"
    metadata: dict[str, Any] | None = Field(None, max_length=MAX_METADATA_KEYS)
    tool_calls: list[dict[str, Any]] | None = Field(None, max_length=128)
    tool_call_id: str | None = Field(
        None, min_length=1, max_length=200, description="On a `tool` message: the id of the call it answers."
    )
    model: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="chat-completion: answer with this model, not the conversation's.",
    )
    tools: Tools | None = Field(
        None,
        description="chat-completion: tools the model may call (OpenAI's function shape); the "
        "conversation's own tools when absent.",
    )
    tool_choice: ToolChoice | None = Field(
        None,
        description='chat-completion: "auto" (the default with tools), "none", "required", or '
        '{"type": "function", "function": {"name": ...}} to make the model call that tool.',
    )
    stream: bool | None = Field(
        None,
        description="true: answer as server-sent events (`delta`s, then `done` with this route's "
        "200 body; chat-completion only; errors before the first byte are ordinary JSON responses). Same as "
        "`Accept: text/event-stream`.",
    )
    mcp_approval_response: (
        McpApprovalResponse | Annotated[list[McpApprovalResponse], Field(min_length=1, max_length=128)] | None
    ) = Field(
        None,
        description="chat-completion, on a user message: approves or denies the MCP tool calls the "
        "assistant message it follows asked approval for (a list for several); a request left "
        "unanswered counts as denied.",
    )
    parent_id: str | None = Field(
        None,
        description="The message this one follows. Absent: the active branch's newest. Another "
        "message: a new branch forks there (an edited question is a new user message under the "
        "edited one's parent); null: a new first message. The new branch becomes the active one.",
        json_schema_extra={"format": "uuid"},
    )

    def approvals(self) -> list[McpApprovalResponse]:
        answer = self.mcp_approval_response
        return [] if answer is None else answer if isinstance(answer, list) else [answer]


class AppendMessageResponse(BaseModel):
    message: Message
    assistant_message: Message | None


class MessageHistory(BaseModel):
    """Document 001's response: `total` counts the whole conversation, `messages` is one page."""

    total: int = Field(ge=0)
    messages: list[Message]


class CreateConversationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200)
    model: str | None = Field(None, min_length=1, max_length=100)
    system_prompt: str | None = Field(None, min_length=1, max_length=32_000)
    metadata: dict[str, Any] | None = Field(None, max_length=MAX_METADATA_KEYS)
    brand_id: str | None = Field(None, min_length=1, max_length=100)
    tools: Tools | None = Field(
        None, description="Tools offered to the model on every chat-completion that declares none."
    )
    assistant_id: str | None = Field(
        None,
        pattern=r"^[0-9a-fA-F-]{36}$",
        description=(
            "Bind the conversation to one of the brand's assistants: its chat-completions use the "
            "assistant's model, system prompt, retrieval and MCP tools (docs/tools.md)."
        ),
    )


class ConversationEnvelope(BaseModel):
    conversation: Conversation


class ConversationPage(BaseModel):
    conversations: list[ConversationSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class RegenerateRequest(BaseModel):
    """POST /v1/conversations/{id}/messages/{message_id}/regenerate: another answer to the same turns."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        None, min_length=1, max_length=100, description="Answer with this model, not the conversation's."
    )
    stream: bool | None = Field(
        None, description="true: answer as server-sent events, as a chat-completion append does."
    )


class RegenerateResponse(BaseModel):
    assistant_message: Message = Field(
        description="The new answer: a sibling of the one regenerated, now on the active branch."
    )


class UpdateConversationRequest(BaseModel):
    """PATCH /v1/conversations/{id}."""

    model_config = ConfigDict(extra="forbid")

    active_message_id: str = Field(
        description="Make the branch through this message active: it, its ancestors, and below it "
        "each time the newest child.",
        json_schema_extra={"format": "uuid"},
    )


MAX_IMPORTED_MESSAGES = 5_000


class ImportedMessage(BaseModel):
    """A message of an export: what the import reads of it (the rest, such as its ratings, is
    left out)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=100)
    role: Role
    content: str
    tool_calls: list[dict[str, Any]] | None = Field(None, max_length=128)
    metadata: dict[str, Any] | None = Field(None, max_length=MAX_METADATA_KEYS)
    parent_id: str | None = Field(None, max_length=100)


class ImportedConversation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str | None = Field(None, max_length=200)
    model: str = Field(min_length=1, max_length=100)
    system_prompt: str | None = Field(None, max_length=32_000)
    metadata: dict[str, Any] | None = Field(None, max_length=MAX_METADATA_KEYS)
    brand_id: str | None = Field(None, min_length=1, max_length=100)
    tools: Tools | None = None


class ConversationImport(BaseModel):
    """POST /v1/conversations/import: the body of GET /v1/conversations/{id}/export?format=json,
    as it is: the active branch in `messages`, every other branch's messages in `archived`."""

    model_config = ConfigDict(extra="ignore")

    format: Literal["parley.conversation.v1"]
    conversation: ImportedConversation
    messages: list[ImportedMessage] = Field(max_length=MAX_IMPORTED_MESSAGES)
    archived: list[ImportedMessage] = Field(default_factory=list, max_length=MAX_IMPORTED_MESSAGES)
