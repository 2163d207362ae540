"""Approval of MCP tool calls on a conversation, through the local gateway against a real MCP
server: the answer stops with an `mcp_approval_request`, nothing is called until the user's next
message approves, a denial reaches the model as a refusal, and every answer that does not fit the
request it follows is a 400 that writes nothing (docs/tools.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.doubles.fake_providers import ANTHROPIC_PATH, ProviderServer
from tests.doubles.mcp_servers import FOUND_LINE, ORDER_LINE, McpTestServer
from tests.integration.test_streaming import read_events

pytestmark = pytest.mark.integration

TOKEN = "approval-secret-51c2"


@pytest.fixture(scope="module")
def orders_server() -> Iterator[McpTestServer]:
    server = McpTestServer(required_token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def server(orders_server: McpTestServer, monkeypatch: pytest.MonkeyPatch) -> McpTestServer:
    monkeypatch.setenv("MCP_ALLOW_HOSTS", orders_server.host)
    orders_server.calls.clear()
    return orders_server


@pytest.fixture
def alice(auth: TokenFactory) -> dict[str, str]:
    return auth("alice", brands=["acme"])


def orders(server: McpTestServer, tool: str = "lookup_order") -> dict[str, Any]:
    """The server with approval asked for every call: OpenAI's default, left as it is."""
    return {
        "type": "mcp",
        "server_label": "orders",
        "server_url": server.url,
        "authorization": TOKEN,
        "allowed_tools": [tool],
    }


def new_conversation(api: httpx.Client, headers: dict[str, str], model: str = "parley-offline") -> str:
    created = api.post("/v1/conversations", json={"model": model}, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["conversation"]["id"])


def say(api: httpx.Client, headers: dict[str, str], conversation_id: str, **body: Any) -> httpx.Response:
    payload = {"role": "user", "mode": "chat-completion", **body}
    return api.post(f"/v1/conversations/{conversation_id}/messages", json=payload, headers=headers)


def history(api: httpx.Client, headers: dict[str, str], conversation_id: str) -> list[dict[str, Any]]:
    found = api.get(f"/v1/conversations/{conversation_id}/messages", headers=headers)
    return list(found.json()["messages"])


def asked_for_approval(
    api: httpx.Client, headers: dict[str, str], server: McpTestServer, conversation_id: str
) -> dict[str, Any]:
    """The first answer: a stop with one approval request, and no call made."""
    body = {"content": "Look up order K11", "tools": [orders(server)], "stream": True}
    with api.stream(
        "POST",
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "mode": "chat-completion", **body},
        headers=headers,
    ) as response:
        assert response.status_code == 200
        events = list(read_events(response.iter_lines()))
    names = [name for name, _ in events]
    assert "mcp_approval_request" in names and names[-1] == "done" and "tool_call" not in names
    streamed = dict(events)["mcp_approval_request"]
    answer = dict(events)["done"]["assistant_message"]
    [request] = answer["tool_calls"]
    assert request == streamed
    assert request["type"] == "mcp_approval_request" and request["id"].startswith("mcpr_")
    assert (request["server_label"], request["name"]) == ("orders", "lookup_order")
    assert answer["metadata"]["finish_reason"] == "tool_calls"
    assert server.calls == []  # nothing runs before the user says so
    return dict(request)


def test_an_approved_call_runs_and_the_answer_reads_its_result(
    api: httpx.Client, alice: dict[str, str], server: McpTestServer
) -> None:
    conversation_id = new_conversation(api, alice)
    request = asked_for_approval(api, alice, server, conversation_id)

    approved = say(
        api,
        alice,
        conversation_id,
        content="Yes, go ahead.",
        tools=[orders(server)],
        mcp_approval_response={"approval_request_id": request["id"], "approve": True},
    )

    assert approved.status_code == 200, approved.text
    [(tool, arguments)] = server.calls
    output = ORDER_LINE.format(order_id=arguments["order_id"])
    answer = approved.json()["assistant_message"]
    assert output in answer["content"]  # the model read the result of the approved call
    [run] = answer["metadata"]["tool_runs"]
    assert (run["id"], run["name"], run["output"]) == (request["id"].removeprefix("mcpr_"), tool, output)
    note = approved.json()["message"]
    assert note["metadata"]["mcp_approval_response"] == [
        {"type": "mcp_approval_response", "approval_request_id": request["id"], "approve": True}
    ]
    stored = history(api, alice, conversation_id)
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
    assert stored[1]["tool_calls"] == [request] and stored[3]["id"] == answer["id"]
    assert TOKEN not in str(stored)

    later = say(api, alice, conversation_id, content="Thanks, and order K12?")
    assert later.status_code == 200, later.text  # the replayed round is whole: every call answered
    assert len(server.calls) == 1


def test_a_denied_call_is_never_made_and_the_model_hears_it_was_refused(
    api: httpx.Client, alice: dict[str, str], server: McpTestServer
) -> None:
    conversation_id = new_conversation(api, alice)
    request = asked_for_approval(api, alice, server, conversation_id)

    denied = say(
        api,
        alice,
        conversation_id,
        content="No.",
        mcp_approval_response={"approval_request_id": request["id"], "approve": False, "reason": "not now"},
    )

    assert denied.status_code == 200, denied.text
    assert server.calls == []
    answer = denied.json()["assistant_message"]
    assert "denied this call (not now)" in answer["content"]
    [run] = answer["metadata"]["tool_runs"]
    assert "denied" in run["error"] and "output" not in run


def test_a_new_question_instead_of_an_answer_leaves_the_call_unmade(
    api: httpx.Client, alice: dict[str, str], server: McpTestServer
) -> None:
    conversation_id = new_conversation(api, alice)
    asked_for_approval(api, alice, server, conversation_id)

    moved_on = say(api, alice, conversation_id, content="Never mind that.")

    assert moved_on.status_code == 200, moved_on.text
    assert server.calls == []
    assert "did not approve" in moved_on.json()["assistant_message"]["content"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            {"mcp_approval_response": {"approval_request_id": "mcpr_nope", "approve": True}},
            "unknown_approval_request",
        ),
        ({"tools": None}, "approval_server_missing"),  # a request's server comes again with its approval
        ({"mode": "append"}, "approval_response_misplaced"),
        ({"role": "tool", "tool_call_id": "x"}, "approval_response_misplaced"),
    ],
)
def test_an_approval_that_does_not_fit_is_a_400_and_writes_nothing(
    api: httpx.Client, alice: dict[str, str], server: McpTestServer, change: dict[str, Any], code: str
) -> None:
    conversation_id = new_conversation(api, alice)
    request = asked_for_approval(api, alice, server, conversation_id)
    body = {
        "content": "Yes.",
        "tools": [orders(server)],
        "mcp_approval_response": {"approval_request_id": request["id"], "approve": True},
        **change,
    }

    refused = say(api, alice, conversation_id, **{k: v for k, v in body.items() if v is not None})

    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == code
    assert server.calls == []
    assert len(history(api, alice, conversation_id)) == 2


def test_an_approval_in_a_conversation_that_asked_none_is_a_400(
    api: httpx.Client, alice: dict[str, str], server: McpTestServer
) -> None:
    conversation_id = new_conversation(api, alice)
    assert say(api, alice, conversation_id, content="Hello").status_code == 200

    refused = say(
        api,
        alice,
        conversation_id,
        content="Yes.",
        mcp_approval_response={"approval_request_id": "mcpr_call_1", "approve": True},
    )

    assert refused.status_code == 400 and refused.json()["error"] == "unknown_approval_request"
    assert len(history(api, alice, conversation_id)) == 2


def test_the_resumed_turns_are_what_anthropic_accepts(
    api: httpx.Client, alice: dict[str, str], server: McpTestServer, providers: ProviderServer
) -> None:
    tool = orders(server, "find_orders")
    conversation_id = new_conversation(api, alice, "claude-sonnet-4-6")
    first = say(api, alice, conversation_id, content="Where is my order?", tools=[tool])
    [request] = first.json()["assistant_message"]["tool_calls"]

    approved = say(
        api,
        alice,
        conversation_id,
        content="Approved.",
        tools=[tool],
        mcp_approval_response={"approval_request_id": request["id"], "approve": True},
    )

    assert approved.status_code == 200, approved.text
    [(_, arguments)] = server.calls
    output = FOUND_LINE.format(size=len(arguments["query"]))
    assert approved.json()["assistant_message"]["content"] == f"Echo: tool said {output}"
    *_, calling, answering = providers.requests_to(ANTHROPIC_PATH)[-1].body["messages"]
    assert [block["type"] for block in calling["content"]] == ["text", "tool_use"]
    assert [block["type"] for block in answering["content"]][:2] == ["tool_result", "text"]
