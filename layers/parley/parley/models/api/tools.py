"""Client-declared tools in OpenAI's function shape, and the choice of whether the model calls one.
Checked as the providers check them (names, schema shape, counts, sizes), so a mistake is a 400
naming it, never a provider's refusal."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TOOLS = 128  # OpenAI's limit; Anthropic and Bedrock take as many
MAX_TOOLS_BYTES = 64 * 1024
TOOL_NAME = r"^[a-zA-Z0-9_-]{1,64}$"  # what every provider accepts


class ToolFunction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=TOOL_NAME, description="1-64 letters, digits, `_` or `-`.")
    description: str | None = Field(None, max_length=1024)
    parameters: dict[str, Any] | None = Field(
        None, description='A JSON Schema of the arguments: an object schema (`"type": "object"`).'
    )

    @field_validator("parameters")
    @classmethod
    def _object_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value.get("type") != "object":
            raise ValueError('must be a JSON Schema of type "object"')
        if value is not None and not isinstance(value.get("properties", {}), dict):
            raise ValueError("properties must be an object")
        return value


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


def check_tools(tools: list[Tool] | None) -> list[Tool] | None:
    """Unique names and a bounded size (a validator of the request bodies that carry tools)."""
    if tools is None:
        return None
    names = [tool.function.name for tool in tools]
    if repeated := sorted({name for name in names if names.count(name) > 1}):
        raise ValueError(f"tool names must be unique; repeated: {', '.join(repeated)}")
    size = len(json.dumps([tool.model_dump(exclude_none=True) for tool in tools]))
    if size > MAX_TOOLS_BYTES:
        raise ValueError(f"the tools take {size} bytes; the limit is {MAX_TOOLS_BYTES}")
    return tools


def chosen_name(choice: ToolChoice | None) -> str | None:
    return choice.function.name if isinstance(choice, NamedToolChoice) else None
