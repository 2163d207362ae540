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


class NamedFunction(BaseModel):
    name: str = Field(pattern=TOOL_NAME)


class NamedToolChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["function"]
    function: NamedFunction


ToolChoice = Literal["auto", "none", "required"] | NamedToolChoice
Tools = Annotated[list[Tool], Field(min_length=1, max_length=MAX_TOOLS)]


def checked_tools(tools: list[Tool] | None) -> list[dict[str, Any]] | None:
    """The tools as sent on, once their names are found unique and their size bounded."""
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
