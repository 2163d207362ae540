"""Client-declared tools in OpenAI's function shape, and the choice of whether the model calls one.
Checked as the providers check them (names, schema shape, counts, sizes), so a mistake is a 400
naming it, never a provider's refusal. What JSON Schema can say is in the schema; the rest
(unique names, total size) is checked by `checked_tools`, each with its own error code."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from parley.errors import InvalidRequest
from parley.models.api.json_schemas import check_json_schema

MAX_TOOLS = 128  # OpenAI's limit; Anthropic and Bedrock take as many
MAX_TOOLS_BYTES = 64 * 1024
TOOL_NAME = r"^[a-zA-Z0-9_-]{1,64}$"  # what every provider accepts


class ObjectSchema(BaseModel):
    """A JSON Schema of a tool's arguments: an object schema; its other keywords are kept."""

    model_config = ConfigDict(extra="allow")

    type: Literal["object"]
    properties: dict[str, Any] | None = None


class ToolFunction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=TOOL_NAME, description="1-64 letters, digits, `_` or `-`.")
    description: str | None = Field(None, max_length=1024)
    parameters: ObjectSchema | None = Field(
        None, description='A JSON Schema of the arguments: an object schema (`"type": "object"`).'
    )


class Tool(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["function"]
    function: ToolFunction


class ToolNames(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool_names: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(max_length=MAX_TOOLS)


class ApprovalFilter(BaseModel):
    """OpenAI's filter form of `require_approval`: the tools that never (or always) need it."""

    model_config = ConfigDict(extra="forbid")

    never: ToolNames | None = None
    always: ToolNames | None = None


HeaderMap = Annotated[
    dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,100}$")], Annotated[str, Field(max_length=8192)]],
    Field(max_length=20, json_schema_extra={"additionalProperties": False}),
]


class McpTool(BaseModel):
    """A remote MCP server whose tools Parley runs for the model, in the shape of OpenAI's hosted
    `mcp` tool (docs/tools.md). `headers` and `authorization` are credentials: sent to the server
    only, never stored with a request's tools, returned or logged."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["mcp"]
    server_label: str = Field(pattern=TOOL_NAME, description="1-64 letters, digits, `_` or `-`.")
    server_url: str = Field(
        min_length=8, max_length=2048, pattern=r"^https?://[A-Za-z0-9.:\[\]-]+(/[!-~]*)?$"
    )
    server_description: str | None = Field(None, max_length=1024)
    headers: HeaderMap | None = None
    authorization: str | None = Field(None, min_length=1, max_length=8192, description="A bearer token.")
    allowed_tools: list[Annotated[str, Field(min_length=1, max_length=128)]] | ToolNames | None = Field(
        None, description="Only these of the server's tools are offered (default: all)."
    )
    require_approval: Literal["always", "never"] | ApprovalFilter = Field(
        "always", description="As OpenAI's default: every call waits for the user's approval."
    )
    credentials: Literal["shared", "per_user"] = "shared"

    def allowed(self) -> list[str] | None:
        if isinstance(self.allowed_tools, ToolNames):
            return self.allowed_tools.tool_names
        return self.allowed_tools

    def needs_approval(self, tool_name: str) -> bool:
        rule = self.require_approval
        if isinstance(rule, str):
            return rule == "always"
        if rule.never is not None and tool_name in rule.never.tool_names:
            return False
        if rule.always is not None:
            return tool_name in rule.always.tool_names
        return True


class NamedFunction(BaseModel):
    name: str = Field(pattern=TOOL_NAME)


class NamedToolChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["function"]
    function: NamedFunction


ToolChoice = Literal["auto", "none", "required"] | NamedToolChoice
AnyTool = Annotated[Tool | McpTool, Field(discriminator="type")]
Tools = Annotated[list[AnyTool], Field(min_length=1, max_length=MAX_TOOLS)]


def function_tools(tools: list[Tool | McpTool] | None) -> list[Tool] | None:
    """The function tools among `tools` (None when there are none)."""
    found = [tool for tool in tools or [] if isinstance(tool, Tool)]
    return found or None


def mcp_tools(tools: list[Tool | McpTool] | None) -> list[McpTool]:
    """The MCP servers among `tools`, each label once (a 400 names a repeated one)."""
    servers = [tool for tool in tools or [] if isinstance(tool, McpTool)]
    labels = [server.server_label for server in servers]
    if repeated := sorted({label for label in labels if labels.count(label) > 1}):
        raise InvalidRequest(
            f"server_label must be unique; repeated: {', '.join(repeated)}.", code="duplicate_server_labels"
        )
    return servers


def stored_tools(tools: list[Tool | McpTool] | None, field: str = "tools") -> list[dict[str, Any]] | None:
    """Tools kept with a conversation: function tools only. An MCP server's credentials are never
    stored with a conversation: it is attached to an assistant, or sent with each request."""
    if mcp_tools(tools):
        raise InvalidRequest(
            f"{field} of a conversation are function tools; send an `mcp` tool with each request "
            "(its credentials are used once, never stored).",
            code="mcp_tool_not_stored",
        )
    return checked_tools(function_tools(tools))


def checked_tools(tools: list[Tool] | None) -> list[dict[str, Any]] | None:
    """The function tools as sent on, once their names are found unique and their size bounded."""
    if tools is None:
        return None
    names = [tool.function.name for tool in tools]
    if repeated := sorted({name for name in names if names.count(name) > 1}):
        raise InvalidRequest(
            f"tool names must be unique; repeated: {', '.join(repeated)}.", code="duplicate_tool_names"
        )
    dumped = [tool.model_dump(exclude_none=True) for tool in tools]
    for position, tool in enumerate(dumped):
        if "parameters" in tool["function"]:
            check_json_schema(tool["function"]["parameters"], f"tools[{position}].function.parameters")
    size = len(json.dumps(dumped))
    if size > MAX_TOOLS_BYTES:
        raise InvalidRequest(
            f"The tools take {size} bytes; the limit is {MAX_TOOLS_BYTES}.", code="tools_too_large"
        )
    return dumped


def chosen_name(choice: ToolChoice | None) -> str | None:
    return choice.function.name if isinstance(choice, NamedToolChoice) else None
