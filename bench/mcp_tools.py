"""What one round trip of an MCP tool adds to an answer: the same question to the offline model
through the chat-completion use case, with and without a tool on a local MCP server (the SDK's
MCPServer over Streamable HTTP on 127.0.0.1), median of REQUESTS each; and the server call alone
as Parley measures it (listing and calling, each a session of its own)."""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from bench.report import Report
from parley.auth.principal import ALL_SCOPES, Principal
from parley.logic.openai_chat import chat_completion
from parley.models.api.openai import ChatCompletionRequest
from parley.wiring import Wiring
from tests.doubles.mcp_servers import McpTestServer

REQUESTS = 30
CALLER = Principal("bench-user", frozenset({"acme"}), frozenset(ALL_SCOPES))
QUESTION = "Look up order A17 please"


def run(report: Report) -> None:
    server = McpTestServer().start()
    try:
        wiring = Wiring(
            environ={**os.environ, "MCP_ALLOW_HOSTS": server.host, "MCP_TOOLS_CACHE_SECONDS": "0"}
        )
        tool = {
            "type": "mcp",
            "server_label": "orders",
            "server_url": server.url,
            "allowed_tools": ["lookup_order"],
            "require_approval": "never",
        }
        plain, _, plain_statuses = _timed(wiring, None)
        with_tool, runs, statuses = _timed(wiring, [tool])
    finally:
        server.stop()
    shape = {
        "requests": REQUESTS,
        "model": "parley-offline",
        "server": "MCPServer, Streamable HTTP, 127.0.0.1",
    }
    report.figure("mcp.answer_without_tool_p50", plain, "ms", statuses=plain_statuses, **shape)
    report.figure("mcp.answer_with_one_tool_round_trip_p50", with_tool, "ms", statuses=statuses, **shape)
    report.figure(
        "mcp.added_latency_of_one_tool_round_trip_p50",
        with_tool - plain,
        "ms",
        statuses=statuses,
        note="tool list (not cached here) + the call + a second model round",
        **shape,
    )
    report.figure("mcp.tool_call_p50", statistics.median(runs), "ms", statuses=statuses, **shape)


def _timed(wiring: Wiring, tools: list[dict[str, Any]] | None) -> tuple[float, list[int], list[int]]:
    timings: list[float] = []
    runs: list[int] = []
    statuses: set[int] = set()
    for _ in range(REQUESTS):
        request = ChatCompletionRequest.model_validate(
            {"model": "parley-offline", "messages": [{"role": "user", "content": QUESTION}], "tools": tools}
        )
        started = time.perf_counter()
        answer = chat_completion(
            CALLER,
            request,
            "acme",
            catalog=wiring.catalog,
            generator=wiring.generator,
            retrieve=wiring.retriever,
            config=wiring.settings,
        )
        timings.append((time.perf_counter() - started) * 1000)
        message = answer.choices[0].message
        if tools:
            found = message.tool_runs or []
            failed = [run for run in found if "error" in run]
            statuses.add(500 if failed or not found else 200)
            runs += [int(run["duration_ms"]) for run in found]
        else:
            statuses.add(200)
    return statistics.median(timings), runs, sorted(statuses)
