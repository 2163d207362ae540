"""Calls of MCP tools that wait for the user's approval (docs/tools.md). When the model calls a
tool that needs approval, the answer stops: its message lists `mcp_approval_request`s in
`tool_calls` (OpenAI's item shape) and keeps the round in its metadata. The user's next message
approves or denies each; the results the model then reads are kept with that message, so any later
prompt replays the round whole: the calls, then a result for each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

APPROVAL_REQUEST = "mcp_approval_request"  # the item type, as OpenAI's Responses API names it
ROUND = "approval_round"  # in the metadata of the assistant message that stopped
RESULTS = "tool_results"  # in the metadata of the user message that answered: call id → result
REQUEST_PREFIX = "mcpr_"
NOT_APPROVED = "The user did not approve this call, so it was not run."
NOT_RUN = "This call was not run: the answer stopped to ask the user's approval for another one."


@dataclass(frozen=True)
class Deferred:
    """A call of an MCP server's tool held back by the stop: one that needs approval, or one
    that does not but was made in the same round (run once the user answers)."""

    call_id: str
    server_label: str
    name: str  # the server's name for the tool
    arguments: str  # as the model wrote them: JSON text
    needs_approval: bool

    @property
    def request_id(self) -> str:
        return REQUEST_PREFIX + self.call_id

    def request(self) -> dict[str, Any]:
        return {
            "type": APPROVAL_REQUEST,
            "id": self.request_id,
            "server_label": self.server_label,
            "name": self.name,
            "arguments": self.arguments,
        }


@dataclass(frozen=True)
class ApprovalRound:
    """The round of calls an answer stopped at: every call the model made in it (as it made
    them, for the prompt), and those of MCP servers, which wait for the user's answer."""

    calls: list[dict[str, Any]]
    deferred: list[Deferred]

    def requests(self) -> list[dict[str, Any]]:
        """The approval requests: what the stopped answer's `tool_calls` list."""
        return [call.request() for call in self.deferred if call.needs_approval]

    def record(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "deferred": [
                {
                    "call_id": call.call_id,
                    "server_label": call.server_label,
                    "name": call.name,
                    "arguments": call.arguments,
                    "needs_approval": call.needs_approval,
                }
                for call in self.deferred
            ],
        }

    @classmethod
    def of(cls, metadata: dict[str, Any] | None) -> ApprovalRound | None:
        """The round a stored message stopped at, if it stopped at one."""
        record = (metadata or {}).get(ROUND)
        if not isinstance(record, dict):
            return None
        deferred = [Deferred(**call) for call in record.get("deferred") or []]
        return cls(list(record.get("calls") or []), deferred)


def is_approval_request(call: Any) -> bool:
    return isinstance(call, dict) and call.get("type") == APPROVAL_REQUEST
