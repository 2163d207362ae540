"""The OpenAI-compatible surface: request and response bodies as OpenAI's Chat Completions,
Embeddings and Models APIs define them, so the OpenAI SDKs, LangChain and chat UIs work against
Parley unchanged. Parameters Parley cannot honour are refused by name, as OpenAI refuses them;
parameters that change nothing here (`seed`, `store`, `service_tier`, `user`, `metadata`) are
accepted."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from parley.models.api.filters import MetadataFilters
from parley.models.api.tools import ToolChoice, Tools

MAX_STOP_SEQUENCES = 4  # OpenAI's limit


class TextPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text"]
    text: str


class FunctionCall(BaseModel):
    name: str
    arguments: str


class ToolCall(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(BaseModel):
    """One message of OpenAI's `messages`: system, developer, user, assistant (with its
    `tool_calls`) or tool (with `tool_call_id`). Text content as a string or as text parts."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None
    name: str | None = Field(None, max_length=64)
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    refusal: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class JsonSchemaFormat(BaseModel):
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None

    model_config = ConfigDict(populate_by_name=True)


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(BaseModel):
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


Stop = str | Annotated[list[str], Field(max_length=MAX_STOP_SEQUENCES)]


class ChatCompletionRequest(BaseModel):
    """POST /v1/chat/completions. `model` is a model id of GET /v1/models: a registry model, or
    `assistant:<assistant_id>` for one of the brand's assistants (its prompt, model and RAG scope)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=256)
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: Stop | None = None
    tools: Tools | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    n: int | None = Field(None, ge=1, le=128)
    user: str | None = Field(None, max_length=256)
    metadata: dict[str, str] | None = None
    seed: int | None = None
    store: bool | None = None
    service_tier: str | None = None
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    logit_bias: dict[str, float] | None = None
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    filters: MetadataFilters | None = Field(
        None,
        description="Parley's extension (the SDKs' `extra_body`): narrows the metadata filters of an "
        "`assistant:` model's searches; refused for a plain model, which searches nothing.",
    )


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None
    citations: list[dict[str, Any]] | None = Field(
        None,
        description=(
            "Parley's extension for an `assistant:<id>` model: the sources the answer cites, as "
            "`POST /v1/ai/chat` returns them. Plain OpenAI clients ignore it."
        ),
    )
    tool_runs: list[dict[str, Any]] | None = Field(
        None,
        description=(
            "Parley's extension: the calls of MCP servers' tools Parley made for this answer (server, "
            "tool, arguments, output or error, duration). Plain OpenAI clients ignore it."
        ),
    )
    # Where an answer stopped for the user's approval (parley.models.approvals), for the
    # Responses API to store and show; never serialized (Chat Completions refuses approvals).
    approval_round: dict[str, Any] | None = Field(None, exclude=True)

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """As OpenAI: no `tool_calls` key without calls; `citations` only for an assistant."""
        data: dict[str, Any] = handler(self)
        for optional in ("tool_calls", "citations", "tool_runs"):
            if data.get(optional) is None:
                data.pop(optional, None)
        return data


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length", "tool_calls", "content_filter"]
    logprobs: None = None


class PromptTokensDetails(BaseModel):
    cached_tokens: int = 0


class CompletionTokensDetails(BaseModel):
    reasoning_tokens: int = 0


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails
    completion_tokens_details: CompletionTokensDetails


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage
    system_fingerprint: str | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    name: str | None = Field(None, description="Parley's extension: an assistant's name (assistants only).")

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A model's card is exactly OpenAI's: `name` only on an assistant's."""
        data: dict[str, Any] = handler(self)
        if data.get("name") is None:
            data.pop("name", None)
        return data


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: str | Annotated[list[str], Field(min_length=1, max_length=2048)]
    model: str = Field(min_length=1, max_length=256)
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(None, ge=1)
    user: str | None = Field(None, max_length=256)


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class OpenAIError(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorBody(BaseModel):
    """The error shape of the OpenAI-compatible routes, as OpenAI answers errors, so the SDKs raise
    their typed exceptions."""

    error: OpenAIError
