"""Tools Parley runs for the model: a remote MCP server's tool as offered, and one run of it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TRUNCATED = "\n[Parley cut the tool's output here: it was {size} bytes, over the limit of {limit}.]"
STORED_OUTPUT_BYTES = 8_192  # of each run's output, what the stored message keeps


@dataclass(frozen=True)
class RemoteTool:
    """One tool of an MCP server, as the model is offered it."""

    server_label: str
    name: str  # the server's name for it
    offered_as: str  # the name the model sees: `name`, or `<label>__<name>` when two servers clash
    description: str | None
    input_schema: dict[str, Any]

    def as_function(self) -> dict[str, Any]:
        function: dict[str, Any] = {"name": self.offered_as, "parameters": self.input_schema}
        if self.description:
            function["description"] = self.description[:1024]
        return {"type": "function", "function": function}


@dataclass(frozen=True)
class ToolRun:
    """One call of a remote tool: what the model asked, and the output or the error it got."""

    call_id: str
    server_label: str
    name: str
    arguments: Any
    output: str | None = None
    error: str | None = None
    duration_ms: int = 0

    def for_model(self) -> str:
        """What the model reads back: the output, or the error plainly named as one."""
        if self.error is not None:
            return f"Error from tool {self.name} on {self.server_label}: {self.error}"
        return self.output or ""

    def record(self) -> dict[str, Any]:
        """The run as the answer's message stores it (its output cut to STORED_OUTPUT_BYTES)."""
        stored: dict[str, Any] = {
            "id": self.call_id,
            "server_label": self.server_label,
            "name": self.name,
            "arguments": self.arguments,
            "duration_ms": self.duration_ms,
        }
        if self.error is not None:
            stored["error"] = self.error
        else:
            stored["output"] = capped(self.output or "", STORED_OUTPUT_BYTES)
        return stored


def capped(text: str, limit: int) -> str:
    """`text` within `limit` UTF-8 bytes, with a marker saying what was cut."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit].decode(errors="ignore") + TRUNCATED.format(size=len(data), limit=limit)


def parsed_arguments(raw: str) -> Any:
    """A call's arguments as the model wrote them: JSON, else the text as it is."""
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return raw
