"""The MCP tool loop on each provider's wire format: the real OpenAI and Anthropic SDKs and boto3's
Converse against local servers that refuse what the real APIs refuse (a tool result answering no
call of the turn before, turns that do not alternate), and a real MCP server. The model calls the
server's tool, Parley runs it, and the provider reads the result back in its own shape."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.doubles.fake_bedrock import BedrockServer
from tests.doubles.fake_providers import ANTHROPIC_PATH, OPENAI_PATH, ProviderServer
from tests.doubles.mcp_servers import FOUND_LINE, McpTestServer

pytestmark = pytest.mark.integration

QUESTION = "Where is my last order?"
MODELS = {"openai": "gpt-4o", "anthropic": "claude-sonnet-4-6", "converse": "bedrock/amazon.nova-lite-v1:0"}


@pytest.fixture(scope="module")
def search_server() -> Iterator[McpTestServer]:
    server = McpTestServer().start()
    yield server
    server.stop()


@pytest.fixture
def reachable(search_server: McpTestServer, monkeypatch: pytest.MonkeyPatch) -> McpTestServer:
    monkeypatch.setenv("MCP_ALLOW_HOSTS", search_server.host)
    search_server.calls.clear()
    return search_server


@pytest.fixture
def bedrock(bedrock_server: BedrockServer, monkeypatch: pytest.MonkeyPatch) -> BedrockServer:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock_server.url)
    monkeypatch.setenv("BEDROCK_REGION", "eu-central-1")
    bedrock_server.received.clear()
    bedrock_server.scripts.clear()
    return bedrock_server


def search_tool(server: McpTestServer) -> dict[str, Any]:
    return {
        "type": "mcp",
        "server_label": "orders",
        "server_url": server.url,
        "allowed_tools": ["find_orders"],
        "require_approval": "never",
    }


def ask(
    api: httpx.Client, headers: dict[str, str], brand: str, model: str, tools: list[Any]
) -> dict[str, Any]:
    created = api.post("/v1/conversations", json={"model": model, "brand_id": brand}, headers=headers)
    assert created.status_code == 201, created.text
    conversation_id = created.json()["conversation"]["id"]
    body = {"role": "user", "content": QUESTION, "mode": "chat-completion", "tools": tools}
    answered = api.post(f"/v1/conversations/{conversation_id}/messages", json=body, headers=headers)
    assert answered.status_code == 200, answered.text
    return dict(answered.json()["assistant_message"])


def openai_result(request: dict[str, Any]) -> tuple[str, str]:
    """(the call id of the assistant turn before, the result the tool message carries)."""
    *_, calling, result = request["messages"]
    assert result["role"] == "tool"
    return calling["tool_calls"][0]["id"], result["content"]


def anthropic_result(request: dict[str, Any]) -> tuple[str, str]:
    *_, calling, result = request["messages"]
    [use] = [block for block in calling["content"] if block["type"] == "tool_use"]
    [block] = [block for block in result["content"] if block["type"] == "tool_result"]
    assert block["tool_use_id"] == use["id"]
    content = block["content"]
    return use["id"], content if isinstance(content, str) else content[0]["text"]


def converse_result(request: dict[str, Any]) -> tuple[str, str]:
    *_, calling, result = request["messages"]
    [use] = [block["toolUse"] for block in calling["content"] if "toolUse" in block]
    [block] = [block["toolResult"] for block in result["content"] if "toolResult" in block]
    assert block["toolUseId"] == use["toolUseId"]
    return use["toolUseId"], block["content"][0]["text"]


@pytest.mark.parametrize("wire", ["openai", "anthropic", "converse"])
def test_each_provider_calls_the_servers_tool_and_reads_its_result_in_its_own_shape(
    api: httpx.Client,
    auth: TokenFactory,
    providers: ProviderServer,
    bedrock: BedrockServer,
    reachable: McpTestServer,
    wire: str,
) -> None:
    model = MODELS[wire]

    brand = f"tools-{uuid.uuid4().hex[:8]}"

    reply = ask(api, auth("alice", brands=[brand]), brand, model, [search_tool(reachable)])

    [(tool, arguments)] = reachable.calls
    assert tool == "find_orders" and QUESTION in arguments["query"]  # what the model asked for
    output = FOUND_LINE.format(size=len(arguments["query"]))
    if wire == "converse":
        first, second = (received.body for received in bedrock.received)
        offered = [spec["toolSpec"]["name"] for spec in first["toolConfig"]["tools"] if "toolSpec" in spec]
        call_id, result = converse_result(second)
    else:
        path = OPENAI_PATH if wire == "openai" else ANTHROPIC_PATH
        first, second = (received.body for received in providers.requests_to(path))
        offered = [tool.get("name") or tool["function"]["name"] for tool in first["tools"]]
        call_id, result = (openai_result if wire == "openai" else anthropic_result)(second)
    assert offered == ["find_orders"]  # the server's tool, offered as a function of the provider's
    assert result == output  # the run's output, read back as the call's result
    assert reply["content"] == f"Echo: tool said {output}"
    assert reply["tool_calls"] is None and reply["metadata"]["finish_reason"] == "stop"
    [run] = reply["metadata"]["tool_runs"]
    assert (run["id"], run["name"], run["output"]) == (call_id, "find_orders", output)
    assert json.dumps(run["arguments"]) == json.dumps(arguments)
    admin = auth("ops", brands=[brand], scopes=["admin"])
    [day] = api.get("/v1/usage", params={"brand_id": brand}, headers=admin).json()["days"]
    assert (day["tool_calls"], day["tool_errors"], day["tool_duration_ms"]) == (1, 0, run["duration_ms"])
    usage = reply["token_usage"]
    assert (
        usage["prompt_tokens"] > 0
        and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    )
