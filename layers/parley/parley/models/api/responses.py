"""OpenAI's Responses API on Parley (docs/openai.md): the request and the response object as the
Responses API (and Open Responses) define them, for the OpenAI SDKs and agent clients. Input
items taken: messages, `function_call` and `function_call_output` (and Codex's free-form tool
calls and reasoning); tools: function tools (alone or in a namespace) and the `mcp` tool
(docs/tools.md). Fields that change nothing here (`reasoning`, `include`, `truncation`,
`user`, ...) are accepted."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from parley.models.api.tools import McpTool, ObjectSchema

RESPONSE_PREFIX = "resp_"


class InputText(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["input_text", "output_text", "text"]
    text: str


class InputMessageItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["message"] | None = None
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[InputText]

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class FunctionCallItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["function_call"]
    call_id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=64)
    arguments: str


class FunctionCallOutputItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1, max_length=200)
    output: str


class CustomToolCallItem(BaseModel):
    """A call of a free-form tool (Codex's), read as a function call whose arguments are its input."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["custom_tool_call"]
    call_id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=64)
    input: str


class CustomToolCallOutputItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["custom_tool_call_output"]
    call_id: str = Field(min_length=1, max_length=200)
    output: str


class ReasoningItem(BaseModel):
    """A model's reasoning, sent back by clients that keep no state (Codex): no Parley model
    reasons in items, so it is left out of the prompt."""

    model_config = ConfigDict(extra="allow")

    type: Literal["reasoning"]


class McpApprovalResponseItem(BaseModel):
    """The user's answer to an `mcp_approval_request` of the response this one continues."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["mcp_approval_response"]
    approval_request_id: str = Field(min_length=1, max_length=300)
    approve: bool
    reason: str | None = Field(None, max_length=1000)


InputItem = (
    InputMessageItem
    | FunctionCallItem
    | FunctionCallOutputItem
    | CustomToolCallItem
    | CustomToolCallOutputItem
    | ReasoningItem
    | McpApprovalResponseItem
)


class FunctionTool(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["function"]
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str | None = Field(
        None, max_length=65_536, description="The model reads its first 1,024 characters."
    )
    parameters: ObjectSchema | None = None
    strict: bool | None = None


class NamespaceTool(BaseModel):
    """A group of function tools under one name (Codex sends its sub-agent tools so): its tools
    are offered as they are."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["namespace"]
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    tools: list[FunctionTool] = Field(max_length=128)


class HostedTool(BaseModel):
    """A tool OpenAI runs on its side (web search, file search, ...). Parley runs none but MCP
    servers: such a tool is left out of what the model is offered, so a client that always
    offers one (Codex's web search) still works (docs/openai.md)."""

    model_config = ConfigDict(extra="allow")

    type: Literal[
        "web_search",
        "web_search_preview",
        "file_search",
        "code_interpreter",
        "image_generation",
        "local_shell",
        "computer_use_preview",
        "custom",
    ]


AnyTool = Annotated[FunctionTool | McpTool | NamespaceTool | HostedTool, Field(discriminator="type")]


class NamedFunctionChoice(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["function"]
    name: str


class TextFormat(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    type: Literal["text", "json_object", "json_schema"]
    name: str | None = Field(None, pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    description: str | None = None
    strict: bool | None = None


class TextOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    format: TextFormat | None = None


class ResponseRequest(BaseModel):
    """POST /v1/responses. `model` as on /v1/chat/completions (`assistant:<id>` too)."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=256)
    input: str | Annotated[list[InputItem], Field(min_length=1)]
    instructions: str | None = Field(None, max_length=256_000)
    tools: Annotated[list[AnyTool], Field(max_length=128)] | None = None
    tool_choice: Literal["auto", "none", "required"] | NamedFunctionChoice | None = None
    parallel_tool_calls: bool | None = None
    text: TextOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_output_tokens: int | None = Field(None, ge=1)
    metadata: dict[str, str] | None = Field(None, max_length=16)
    store: bool = True
    previous_response_id: str | None = Field(None, min_length=1, max_length=100)
    stream: bool | None = None
    background: bool | None = None

    def items(self) -> list[InputItem]:
        if isinstance(self.input, str):
            return [InputMessageItem(role="user", content=self.input)]
        return list(self.input)


class InputTokensDetails(BaseModel):
    cached_tokens: int = 0


class OutputTokensDetails(BaseModel):
    reasoning_tokens: int = 0


class ResponseUsage(BaseModel):
    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    output_tokens_details: OutputTokensDetails
    total_tokens: int


class Response(BaseModel):
    """The response object. `output` holds `message` items (`output_text` parts) and
    `function_call` items, as OpenAI's."""

    id: str
    object: Literal["response"] = "response"
    created_at: int
    status: Literal["completed", "incomplete", "in_progress", "failed", "cancelled", "queued"]
    error: dict[str, Any] | None = None
    incomplete_details: dict[str, Any] | None = None
    instructions: str | None = None
    max_output_tokens: int | None = None
    model: str
    output: list[dict[str, Any]]
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    store: bool
    background: bool = False
    temperature: float | None = None
    text: dict[str, Any] = Field(default_factory=lambda: {"format": {"type": "text"}})
    tool_choice: Any = "auto"
    tools: list[dict[str, Any]] = Field(default_factory=list)
    top_p: float | None = None
    truncation: str = "disabled"
    usage: ResponseUsage | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    conversation_id: str | None = Field(
        None, description="Parley's: the conversation the response is a turn of."
    )


class InputItemList(BaseModel):
    object: Literal["list"] = "list"
    data: list[dict[str, Any]]
    first_id: str | None
    last_id: str | None
    has_more: bool = False


class DeletedResponse(BaseModel):
    id: str
    object: Literal["response"] = "response"
    deleted: bool = True
