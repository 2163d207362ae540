"""The Anthropic-compatible surface: `POST /v1/messages` and `POST /v1/messages/count_tokens` as
Anthropic's Messages API defines their bodies, so the Anthropic SDKs and Claude Code work against
Parley (docs/anthropic.md). Text, `tool_use` and `tool_result` blocks are taken; a block Parley
cannot honour (an image, a document) is refused by name. Fields that change nothing here
(`cache_control`, `metadata`, `thinking`, `service_tier`, ...) are accepted and ignored, as new
clients send them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from parley.models.api.tools import ObjectSchema

MAX_STOP_SEQUENCES = 8


class TextBlock(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["text"]
    text: str


class ToolUseBlock(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["tool_use"]
    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    input: dict[str, Any]


class ToolResultBlock(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["tool_result"]
    tool_use_id: str = Field(min_length=1, max_length=200)
    content: str | list[TextBlock] | None = None
    is_error: bool | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(block.text for block in self.content)
        return self.content or ""


class ThinkingBlock(BaseModel):
    """A model's thinking, sent back with its turn as Anthropic asks: no Parley provider reads it
    back, so it is left out of the prompt."""

    model_config = ConfigDict(extra="allow")

    type: Literal["thinking", "redacted_thinking"]


class UnsupportedBlock(BaseModel):
    """A block of a kind Parley does not take (refused with its type named)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["image", "document", "search_result", "server_tool_use"]


Block = Annotated[
    TextBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock | UnsupportedBlock, Field(discriminator="type")
]


class InputMessage(BaseModel):
    """A turn. `system` turns (which agents such as Claude Code send between the others) join the
    system prompt."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["user", "assistant", "system"]
    content: str | list[Block]


class AnthropicTool(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["custom"] | None = None
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str | None = None
    input_schema: ObjectSchema


class AnthropicToolChoice(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class MessagesRequest(BaseModel):
    """POST /v1/messages. `model` is a model id of GET /v1/models, or `assistant:<assistant_id>`."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=256)
    max_tokens: int = Field(ge=1)
    messages: list[InputMessage] = Field(min_length=1)
    system: str | list[TextBlock] | None = None
    tools: list[AnthropicTool] | None = Field(None, max_length=128)
    tool_choice: AnthropicToolChoice | None = None
    stop_sequences: list[str] | None = Field(None, max_length=MAX_STOP_SEQUENCES)
    temperature: float | None = Field(None, ge=0, le=1)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: int | None = Field(None, ge=0)
    stream: bool | None = None
    metadata: dict[str, Any] | None = None


class CountTokensRequest(BaseModel):
    """POST /v1/messages/count_tokens: a Messages request without its budget."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=256)
    messages: list[InputMessage] = Field(min_length=1)
    system: str | list[TextBlock] | None = None
    tools: list[AnthropicTool] | None = Field(None, max_length=128)
    tool_choice: AnthropicToolChoice | None = None


class TokenCount(BaseModel):
    input_tokens: int


class MessageUsage(BaseModel):
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class OutputText(BaseModel):
    type: Literal["text"] = "text"
    text: str


class OutputToolUse(BaseModel):
    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: Any


StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"]


class AnthropicMessage(BaseModel):
    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: list[OutputText | OutputToolUse]
    stop_reason: StopReason | None
    stop_sequence: str | None = None
    usage: MessageUsage


class AnthropicErrorDetail(BaseModel):
    type: str
    message: str


class AnthropicError(BaseModel):
    type: Literal["error"] = "error"
    error: AnthropicErrorDetail


def message_id(completion_id: str) -> str:
    """The Messages id of an answer: Anthropic's `msg_` prefix on the completion's own id."""
    return "msg_" + completion_id.removeprefix("chatcmpl-")
