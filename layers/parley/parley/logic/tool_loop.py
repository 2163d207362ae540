"""An answer that uses MCP servers' tools: the servers' tools are listed and offered beside the
client's function tools, and when the model calls them Parley runs the calls and gives it the
results, until it answers, at most MCP_MAX_STEPS rounds, all within the answer's one deadline
(docs/tools.md). A server that fails is never silent: its error reaches the model as the tool's
result, and the client as a `tool_result` with the error; the answer still completes. A call of
a client's function tool ends the loop and goes to the client, as without servers."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from typing import Any

from parley.config import Settings
from parley.errors import InvalidRequest
from parley.logic.generation import Generation, Listener
from parley.models.api.tools import TOOL_NAME, McpTool, Tool, mcp_tools
from parley.models.approvals import APPROVAL_REQUEST, ROUND, ApprovalRound, Deferred
from parley.models.domain import TokenUsage
from parley.models.tools import RemoteTool, ToolRun, parsed_arguments
from parley.observability import logger
from parley.providers.base import ChatRequest, Completion, Delta, PromptMessage
from parley.providers.registry import ModelSpec
from parley.remote_tools.mcp import CallOutcome, McpClient, ServerTool, ServerUnavailable

ANSWER_RESERVE = 0.25  # of the answer's deadline, kept for the model's last round
LISTING = "tools/list"  # the name of a run that stands for a server's failed listing


@dataclass
class Toolbox:
    """The MCP servers of one request and the tools they offer the model."""

    servers: dict[str, McpTool]
    tools: list[RemoteTool] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)  # label: why its tools are missing

    def find(self, offered_as: str) -> RemoteTool | None:
        return next((tool for tool in self.tools if tool.offered_as == offered_as), None)

    def tool(self, server_label: str, name: str) -> RemoteTool | None:
        """The server's tool of that name, if it is offered on this answer."""
        return next((t for t in self.tools if (t.server_label, t.name) == (server_label, name)), None)

    def needs_approval(self, tool: RemoteTool) -> bool:
        return self.servers[tool.server_label].needs_approval(tool.name)

    def functions(self) -> list[dict[str, Any]]:
        return [tool.as_function() for tool in self.tools]

    def note(self) -> str | None:
        """For the system prompt: the servers whose tools could not be listed, and why."""
        if not self.unavailable:
            return None
        lines = [f"- {label}: {reason}" for label, reason in sorted(self.unavailable.items())]
        return "These tool servers are unavailable for this answer:\n" + "\n".join(lines)


def requested_servers(
    tools: list[Tool | McpTool] | None, client: McpClient | None, config: Settings, *, where: str | None
) -> list[McpTool]:
    """The MCP servers a request names, checked before anything is listed or written: their
    number, approval (`where`: why this route cannot wait for one; None where it can), and each
    URL's form and literal address (a 400 naming the problem)."""
    servers = mcp_tools(tools)
    if not servers:
        return []
    if client is None:
        raise InvalidRequest("MCP tools are not available on this deployment.", code="mcp_unavailable")
    check_servers(servers, config, where=where)
    for position, server in enumerate(servers):
        client.policy.check_url(server.server_url, f"tools[{position}].server_url")
    return servers


def together(assistant: list[McpTool], requested: list[McpTool]) -> list[McpTool]:
    """An assistant's servers and a request's, each label once (a 400 names one used twice)."""
    labels = {server.server_label for server in assistant}
    if clash := sorted(labels & {server.server_label for server in requested}):
        raise InvalidRequest(
            f"server_label {', '.join(clash)} is the assistant's already; choose another.",
            code="duplicate_server_labels",
        )
    return [*assistant, *requested]


def check_servers(servers: list[McpTool], config: Settings, *, where: str | None) -> None:
    """What can be refused before anything is listed: too many servers, and approval, which needs
    an answer kept until the user decides (a 400 that says where it is available; `where` is
    None on a conversation, which keeps it)."""
    if len(servers) > config.mcp_max_servers:
        raise InvalidRequest(
            f"{len(servers)} MCP servers; at most {config.mcp_max_servers} per request (MCP_MAX_SERVERS).",
            code="too_many_servers",
        )
    for server in servers:
        if where is not None and server.require_approval == "always":
            raise _approval_refused(server.server_label, where)


def open_toolbox(
    servers: list[McpTool],
    taken: set[str],
    client: McpClient | None,
    config: Settings,
    *,
    where: str | None,
    unconnected: list[str] | None = None,
) -> Toolbox | None:
    """The servers' tools, filtered by `allowed_tools`, named apart from `taken` (the client's
    function tools) and from each other; None without servers. `unconnected`: per-user servers
    the user has not connected, named to the model and the client as `connection_required`."""
    if not servers and not unconnected:
        return None
    if client is None:
        raise InvalidRequest("MCP tools are not available on this deployment.", code="mcp_unavailable")
    check_servers(servers, config, where=where)
    box = Toolbox({server.server_label: server for server in servers})
    for label in unconnected or []:
        box.unavailable[label] = (
            f"connection_required: '{label}' uses each user's own credentials; connect them with "
            f"PUT /v1/me/connections/{label}"
        )
    listed: list[tuple[McpTool, ServerTool]] = []
    for server in servers:
        try:
            tools = client.list_tools(server, config.mcp_call_timeout_seconds)
        except ServerUnavailable as failure:
            box.unavailable[server.server_label] = str(failure)
            continue
        allowed = server.allowed()
        for tool in tools:
            if allowed is None or tool.name in allowed:
                if where is not None and server.needs_approval(tool.name):
                    raise _approval_refused(server.server_label, where, tool.name)
                listed.append((server, tool))
    if len(listed) > config.mcp_max_tools:
        raise InvalidRequest(
            f"The MCP servers offer {len(listed)} tools; at most {config.mcp_max_tools} are offered "
            "together (MCP_MAX_TOOLS): narrow them with allowed_tools.",
            code="too_many_tools",
        )
    names = [tool.name for _, tool in listed]
    for server, tool in listed:
        clash = tool.name in taken or names.count(tool.name) > 1
        offered = f"{server.server_label}__{tool.name}" if clash else tool.name
        if not _valid_name(offered):
            box.unavailable.setdefault(server.server_label, f"its tool name '{tool.name[:64]}' is not usable")
            continue
        box.tools.append(
            RemoteTool(server.server_label, tool.name, offered, tool.description, tool.input_schema)
        )
    return box


def answer_with_tools(
    generation: Generation,
    spec: ModelSpec,
    request: ChatRequest,
    box: Toolbox,
    *,
    client: McpClient,
    config: Settings,
    streamed: bool = True,
) -> tuple[Completion, list[ToolRun]]:
    """The model's answer to `request` with the toolbox's tools run by Parley; the completion
    carries the usage of every round, and the runs in the order they were made."""
    budget = (
        generation.generator.stream_timeout_seconds
        if streamed
        else generation.generator.provider_timeout_seconds
    )
    ends = time.monotonic() + budget
    listener = generation.listener
    messages = list(request.messages)
    system = "\n\n".join(part for part in (request.system_prompt, box.note()) if part) or None
    offered = [*(request.tools or []), *box.functions()]
    runs = [  # a server whose tools could not be listed: named to the client, as to the model
        ToolRun(f"list_{label}", label, LISTING, {}, error=reason)
        for label, reason in sorted(box.unavailable.items())
    ]
    for run in runs:
        tell(listener, "tool_result", run.record())
    usage = TokenUsage(prompt_tokens=0, completion_tokens=0, total_tokens=0)
    for step in range(config.mcp_max_steps + 1):
        left = ends - time.monotonic()
        last = step == config.mcp_max_steps or left < budget * ANSWER_RESERVE
        round_request = replace(
            request,
            messages=messages,
            system_prompt=system,
            tools=offered or None,
            tool_choice="none" if last and offered else request.tool_choice if step == 0 else "auto",
        )
        generation.listener = _Screen(listener) if listener is not None else None
        try:
            completion, _ = generation.call(spec, round_request, max(left, 1.0), streamed=streamed)
        finally:
            generation.listener = listener
        usage = _added(usage, completion.usage)
        calls = completion.tool_calls or []
        remote = [call for call in calls if box.find(call["function"]["name"]) is not None]
        if not remote or last:
            break
        if stop := _approval_stop(calls, remote, box):
            for asked in stop.requests():
                tell(listener, APPROVAL_REQUEST, asked)
            waiting = replace(
                completion,
                usage=usage,
                tool_calls=stop.requests(),
                finish_reason="tool_calls",  # calls the user must approve: tool_calls says which
                metadata={**completion.metadata, ROUND: stop.record()},
            )
            return waiting, runs
        client_calls = [call for call in calls if call not in remote]
        messages.append(PromptMessage("assistant", completion.content, remote))
        for call in remote:
            tool = box.find(call["function"]["name"])
            assert tool is not None
            arguments = parsed_arguments(call["function"].get("arguments") or "")
            run = run_call(
                tool,
                call["id"],
                arguments,
                box,
                client=client,
                generation=generation,
                config=config,
                ends=ends,
            )
            runs.append(run)
            messages.append(PromptMessage("tool", run.for_model(), tool_call_id=call["id"]))
        if client_calls:  # the client runs its own: the answer goes back to it with those
            completion = replace(completion, tool_calls=client_calls)
            break
    else:  # pragma: no cover - the last round always breaks
        raise AssertionError("unreachable")
    remaining = [call for call in completion.tool_calls or [] if box.find(call["function"]["name"]) is None]
    if remaining:
        _emit_calls(listener, remaining)  # the client's own calls, whole, as the stream's last piece
    finish = completion.finish_reason if remaining or completion.finish_reason != "tool_calls" else "stop"
    return replace(completion, usage=usage, tool_calls=remaining or None, finish_reason=finish), runs


def _approval_stop(
    calls: list[dict[str, Any]], remote: list[dict[str, Any]], box: Toolbox
) -> ApprovalRound | None:
    """The round held for the user's approval, if a call in it needs one: its MCP calls wait,
    those needing approval as requests, the others to be run with them."""
    deferred = []
    for call in remote:
        tool = box.find(call["function"]["name"])
        assert tool is not None
        arguments = call["function"].get("arguments") or "{}"
        deferred.append(
            Deferred(call["id"], tool.server_label, tool.name, arguments, box.needs_approval(tool))
        )
    if not any(call.needs_approval for call in deferred):
        return None
    return ApprovalRound(calls, deferred)


def run_call(
    tool: RemoteTool,
    call_id: str,
    arguments: Any,
    box: Toolbox,
    *,
    client: McpClient,
    generation: Generation,
    config: Settings,
    ends: float,
) -> ToolRun:
    """One call the model made, run on its server within what is left of the deadline and
    metered; the client hears of it before (`tool_call`) and after (`tool_result`)."""
    listener = generation.listener
    server = box.servers[tool.server_label]
    tell(
        listener,
        "tool_call",
        {"id": call_id, "server_label": tool.server_label, "name": tool.name, "arguments": arguments},
    )
    timeout = max(0.5, min(config.mcp_call_timeout_seconds, ends - time.monotonic()))
    outcome: CallOutcome = client.call(server, tool.name, arguments, timeout)
    generation.meter.add_tool_call(outcome.duration_ms, failed=outcome.error is not None)
    run = ToolRun(
        call_id=call_id,
        server_label=tool.server_label,
        name=tool.name,
        arguments=arguments,
        output=outcome.output,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
    )
    tell(listener, "tool_result", {k: v for k, v in run.record().items() if k != "arguments"})
    if run.error is not None:
        logger.warning(
            "a tool call failed",
            extra={"server_label": run.server_label, "tool": run.name, "error": run.error},
        )
    return run


class _Screen:
    """The client's view of a round: the answer's text as it comes; not the fragments of tool
    calls, which Parley runs or hands over whole at the end (a client's own)."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener

    def context(self, chunks: list[Any]) -> None:
        self.listener.context(chunks)

    def delta(self, delta: Delta) -> None:
        if delta.content:
            self.listener.delta(Delta(content=delta.content))


def tell(listener: Listener | None, event: str, data: dict[str, Any]) -> None:
    """An event for a stream that shows tool activity (Parley's events; OpenAI's chunks do not)."""
    activity = getattr(listener, "tool_activity", None)
    if activity is not None:
        activity(event, data)


def _emit_calls(listener: Listener | None, calls: list[dict[str, Any]]) -> None:
    if listener is not None:
        listener.delta(Delta(tool_calls=[{"index": index, **call} for index, call in enumerate(calls)]))


def _added(total: TokenUsage, more: TokenUsage) -> TokenUsage:
    return TokenUsage(
        prompt_tokens=total.prompt_tokens + more.prompt_tokens,
        completion_tokens=total.completion_tokens + more.completion_tokens,
        total_tokens=total.total_tokens + more.total_tokens,
    )


def _valid_name(name: str) -> bool:
    return re.fullmatch(TOOL_NAME, name) is not None


def _approval_refused(label: str, where: str, tool: str | None = None) -> InvalidRequest:
    which = f"tool '{tool}' of '{label}'" if tool else f"'{label}'"
    return InvalidRequest(
        f"The MCP server {which} requires approval (require_approval is 'always' by default, as "
        f"OpenAI's); {where} cannot wait for one. Set require_approval to 'never' for the tools "
        "Parley may call without asking.",
        code="approval_unavailable",
        param="tools",
    )
