"""The user's answer to an answer that stopped for approval (parley.models.approvals): checked
against the requests of the message it follows, then the approved calls run (with the round's
calls that needed no approval) and the denied ones named to the model as refused. And the prompt's
view of a stopped round: the calls, then a result for each, so providers see every call answered."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from parley.config import Settings
from parley.errors import InvalidRequest
from parley.logic.generation import Generation
from parley.logic.tool_loop import Toolbox, run_call, tell
from parley.models.api.conversations import McpApprovalResponse
from parley.models.approvals import NOT_APPROVED, NOT_RUN, RESULTS, ApprovalRound, Deferred
from parley.models.domain import Message
from parley.models.tools import ToolRun, parsed_arguments
from parley.providers.base import PromptMessage

RESUME_SHARE = 0.5  # of the answer's deadline, what the approved calls may take together


@dataclass(frozen=True)
class Approval:
    """The user's answers to the approval requests of the message the new one follows."""

    round: ApprovalRound
    responses: dict[str, McpApprovalResponse]  # by approval request id

    def approved(self, call: Deferred) -> bool:
        """Run it: it needed no approval, or the user gave it."""
        response = self.responses.get(call.request_id)
        return not call.needs_approval or (response is not None and response.approve)

    def refusal(self, call: Deferred) -> str:
        response = self.responses.get(call.request_id)
        if response is None:
            return NOT_APPROVED
        reason = f" ({response.reason})" if response.reason else ""
        return f"The user denied this call{reason}, so it was not run."


@dataclass
class Stopping:
    """An answer that may stop for the user's approval, where the answer is stored to be
    continued (the Responses API): `answer`, the user's answer to the stop it continues from;
    `results`, filled with what the calls it resumed returned (by call id), to store."""

    answer: Approval | None = None
    results: dict[str, str] = field(default_factory=dict)


def answered(messages: list[PromptMessage], results: dict[str, str]) -> list[PromptMessage]:
    """The prompt with each stopped call's result in place of the `not approved` it was given."""
    return [
        replace(message, content=results[message.tool_call_id])
        if message.role == "tool" and message.tool_call_id in results
        else message
        for message in messages
    ]


def check_approval(responses: Sequence[McpApprovalResponse], history: list[Message]) -> Approval:
    """The responses, found to answer requests of the newest message of `history` (the one the
    new message follows), each once; a 400 naming what does not fit, before anything is run."""
    parent = history[-1] if history else None
    round_ = ApprovalRound.of(parent.metadata) if parent is not None and parent.role == "assistant" else None
    if round_ is None or not round_.requests():
        raise InvalidRequest(
            "mcp_approval_response answers the approval requests of the assistant message the new "
            "message follows, and that message asks for none.",
            code="unknown_approval_request",
            param="mcp_approval_response",
        )
    ids = [response.approval_request_id for response in responses]
    if repeated := sorted({i for i in ids if ids.count(i) > 1}):
        raise InvalidRequest(
            f"approval_request_id {', '.join(repeated)} is answered twice.",
            code="duplicate_approval_response",
            param="mcp_approval_response",
        )
    asked = [request["id"] for request in round_.requests()]
    if unknown := [i for i in ids if i not in asked]:
        raise InvalidRequest(
            f"approval_request_id {', '.join(unknown)} is not asked by the message this one follows "
            f"(it asks: {', '.join(asked)}).",
            code="unknown_approval_request",
            param="mcp_approval_response",
        )
    return Approval(round_, {response.approval_request_id: response for response in responses})


def resume(
    approval: Approval,
    box: Toolbox | None,
    *,
    generation: Generation,
    config: Settings,
    unconnected: Sequence[str] = (),
) -> tuple[dict[str, str], list[ToolRun]]:
    """The results the model reads for every call of the stopped round (by call id), and the runs
    of its MCP calls: the approved run now, on this request's servers (their credentials are
    never stored, so a request's own server must come with the approval again)."""
    servers = box.servers if box is not None else {}
    for waiting in approval.round.deferred:
        label = waiting.server_label
        if approval.approved(waiting) and label not in servers and label not in unconnected:
            raise InvalidRequest(
                f"The call of '{waiting.name}' runs on the MCP server '{label}', which this "
                "request does not name: send its mcp tool again with the approval (a request's "
                "credentials are used once, never stored).",
                code="approval_server_missing",
                param="tools",
            )
    ends = time.monotonic() + generation.generator.provider_timeout_seconds * RESUME_SHARE
    deferred = {call.call_id: call for call in approval.round.deferred}
    results: dict[str, str] = {}
    runs: list[ToolRun] = []
    for made in approval.round.calls:
        call = deferred.get(made["id"])
        if call is None:  # a client's own function, called beside the approval requests
            results[made["id"]] = NOT_RUN
            continue
        run = _resumed(
            call, approval, box, generation=generation, config=config, ends=ends, unconnected=unconnected
        )
        runs.append(run)
        results[call.call_id] = run.for_model()
    return results, runs


def _resumed(
    call: Deferred,
    approval: Approval,
    box: Toolbox | None,
    *,
    generation: Generation,
    config: Settings,
    ends: float,
    unconnected: Sequence[str],
) -> ToolRun:
    arguments = parsed_arguments(call.arguments)
    tool = box.tool(call.server_label, call.name) if box is not None else None
    error: str | None = None
    if not approval.approved(call):
        error = approval.refusal(call)
    elif call.server_label in unconnected:
        label = call.server_label
        error = f"connection_required: connect '{label}' with PUT /v1/me/connections/{label}"
    elif tool is None or box is None:
        error = f"the server no longer offers the tool '{call.name}'"
    else:
        client = generation.generator.remote_tools
        assert client is not None  # a toolbox is only opened with a client
        return run_call(
            tool, call.call_id, arguments, box, client=client, generation=generation, config=config, ends=ends
        )
    run = ToolRun(call.call_id, call.server_label, call.name, arguments, error=error)
    tell(generation.listener, "tool_result", {k: v for k, v in run.record().items() if k != "arguments"})
    return run


def prompt_turns(turns: list[Message]) -> list[PromptMessage]:
    """The turns as the provider reads them. A round that stopped for approval is its calls,
    then each call's result: those the user's next message brought, else what says it was not run."""
    prompt: list[PromptMessage] = []
    for position, message in enumerate(turns):
        round_ = ApprovalRound.of(message.metadata) if message.role == "assistant" else None
        if round_ is None:
            prompt.append(
                PromptMessage(
                    message.role, message.content, message.tool_calls, message.metadata.get("tool_call_id")
                )
            )
            continue
        prompt.append(PromptMessage("assistant", message.content, round_.calls))
        after = turns[position + 1] if position + 1 < len(turns) else None
        results = after.metadata.get(RESULTS) if after is not None and after.role == "user" else None
        asking = {call.call_id for call in round_.deferred if call.needs_approval}
        for made in round_.calls:
            unanswered = NOT_APPROVED if made["id"] in asking else NOT_RUN
            prompt.append(
                PromptMessage("tool", (results or {}).get(made["id"], unanswered), tool_call_id=made["id"])
            )
    return prompt
