"""MCP servers' tools run by Parley, through the local gateway, against real MCP servers (the
SDK's MCPServer over Streamable HTTP on 127.0.0.1, allowed by MCP_ALLOW_HOSTS): the model calls,
Parley calls the server with the request's credentials, the result goes back to the model, and
the answer comes with every run. Failures are never silent, limits hold, and a server on a
private address is refused (docs/tools.md)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from local.dynamodb import client as dynamodb_client
from tests.conftest import TokenFactory
from tests.doubles.mcp_servers import ORDER_LINE, McpTestServer
from tests.doubles.table_text import table_text
from tests.integration.test_streaming import read_events

pytestmark = pytest.mark.integration

TOKEN = "orders-secret-7f3a"  # the server's credential: it must reach the server and nothing else
SHOP_HEADER = "shop-header-5c2e9b"  # a second credential, as unlikely as TOKEN to occur by chance


@pytest.fixture(scope="module")
def orders_server() -> Iterator[McpTestServer]:
    server = McpTestServer(required_token=TOKEN, slow_seconds=4).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def legacy_server() -> Iterator[McpTestServer]:
    """A server of the 2025-11-25 revision: sessions, with the initialize handshake."""
    server = McpTestServer(stateless=False).start()
    yield server
    server.stop()


@pytest.fixture
def allowed(
    orders_server: McpTestServer, legacy_server: McpTestServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    hosts = f"{orders_server.host},{legacy_server.host},127.0.0.1:9"
    monkeypatch.setenv("MCP_ALLOW_HOSTS", hosts)
    monkeypatch.setenv("MCP_CALL_TIMEOUT_SECONDS", "2")
    orders_server.seen.clear()
    orders_server.calls.clear()
    yield
    monkeypatch.undo()


@pytest.fixture
def alice(auth: TokenFactory) -> dict[str, str]:
    return auth("alice", brands=["acme"])


def orders(server: McpTestServer, tool: str = "lookup_order", **extra: Any) -> dict[str, Any]:
    return {
        "type": "mcp",
        "server_label": "orders",
        "server_url": server.url,
        "authorization": TOKEN,
        "allowed_tools": [tool],
        "require_approval": "never",
        **extra,
    }


def completion(api: httpx.Client, headers: dict[str, str], tools: list[Any], content: str) -> httpx.Response:
    return api.post(
        "/v1/chat/completions",
        json={"model": "parley-offline", "messages": [{"role": "user", "content": content}], "tools": tools},
        headers=headers,
    )


def test_the_model_calls_a_tool_parley_runs_it_and_the_answer_uses_its_result(
    api: httpx.Client, alice: dict[str, str], orders_server: McpTestServer, allowed: None
) -> None:
    client = openai.OpenAI(
        base_url=f"{str(api.base_url).rstrip('/')}/v1",
        api_key=alice["Authorization"].removeprefix("Bearer "),
        max_retries=0,
    )

    answer = client.chat.completions.create(
        model="parley-offline",
        messages=[{"role": "user", "content": "Look up order A17 please"}],
        tools=[orders(orders_server)],  # type: ignore[list-item]
    )

    message = answer.choices[0].message
    assert orders_server.calls and orders_server.calls[0][0] == "lookup_order"
    order_id = orders_server.calls[0][1]["order_id"]
    assert ORDER_LINE.format(order_id=order_id) in (message.content or "")
    assert message.tool_calls is None and answer.choices[0].finish_reason == "stop"
    [run] = message.model_extra["tool_runs"]  # type: ignore[index]
    assert (run["server_label"], run["name"], run["arguments"]) == (
        "orders",
        "lookup_order",
        {"order_id": order_id},
    )
    assert run["output"] == ORDER_LINE.format(order_id=order_id) and run["duration_ms"] >= 0
    assert set(orders_server.seen) == {f"Bearer {TOKEN}"}  # the request's credential, and only it
    assert TOKEN not in answer.model_dump_json()
    assert answer.usage is not None and answer.usage.prompt_tokens > 0  # both rounds, metered


def test_a_conversation_streams_the_tool_run_and_stores_it_with_the_answer(
    api: httpx.Client, alice: dict[str, str], orders_server: McpTestServer, allowed: None
) -> None:
    created = api.post("/v1/conversations", json={"model": "parley-offline"}, headers=alice)
    conversation_id = created.json()["conversation"]["id"]
    body = {
        "role": "user",
        "content": "Look up order B2",
        "mode": "chat-completion",
        "stream": True,
        "tools": [orders(orders_server)],
    }

    with api.stream(
        "POST", f"/v1/conversations/{conversation_id}/messages", json=body, headers=alice
    ) as response:
        assert response.status_code == 200
        events = list(read_events(response.iter_lines()))

    names = [name for name, _ in events]
    assert names.index("tool_call") < names.index("tool_result") < names.index("delta") < names.index("done")
    done = dict(events)["done"]["assistant_message"]
    [run] = done["metadata"]["tool_runs"]
    assert run["name"] == "lookup_order" and "shipped" in run["output"]
    history = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()["messages"]
    assert history[-1]["metadata"]["tool_runs"] == [run]
    assert "shipped" in history[-1]["content"]
    exported = api.get(
        f"/v1/conversations/{conversation_id}/export", params={"format": "json"}, headers=alice
    )
    assert exported.status_code == 200 and TOKEN not in exported.text and "tool_runs" in exported.text


def test_a_server_of_the_older_revision_is_spoken_to_as_well(
    api: httpx.Client, alice: dict[str, str], legacy_server: McpTestServer, allowed: None
) -> None:
    tool = {**orders(legacy_server), "authorization": None}

    answered = completion(api, alice, [tool], "Look up order C3")

    assert answered.status_code == 200, answered.text
    [run] = answered.json()["choices"][0]["message"]["tool_runs"]
    assert "shipped" in run["output"]


@pytest.mark.parametrize(
    ("tool", "error"),
    [
        ("broken_lookup", "Error executing tool broken_lookup"),
        ("slow_lookup", "did not answer within 2 s"),
    ],
)
def test_a_tool_that_fails_or_hangs_is_an_error_the_model_and_the_client_see(
    api: httpx.Client,
    alice: dict[str, str],
    orders_server: McpTestServer,
    allowed: None,
    tool: str,
    error: str,
) -> None:
    answered = completion(
        api, alice, [orders(orders_server, tool)], "Look up order D4 slowly in the database"
    )

    assert answered.status_code == 200, answered.text
    message = answered.json()["choices"][0]["message"]
    [run] = message["tool_runs"]
    assert error in run["error"] and "output" not in run
    assert error in message["content"]  # what the model read back, it answered from


def test_a_server_that_is_down_is_named_and_the_answer_still_comes(
    api: httpx.Client, alice: dict[str, str], allowed: None
) -> None:
    down = {
        "type": "mcp",
        "server_label": "down",
        "server_url": "http://127.0.0.1:9/mcp",
        "require_approval": "never",
    }

    answered = completion(api, alice, [down], "Look up order E5")

    assert answered.status_code == 200, answered.text
    message = answered.json()["choices"][0]["message"]
    assert message["tool_runs"] == [
        {
            "id": "list_down",
            "server_label": "down",
            "name": "tools/list",
            "arguments": {},
            "duration_ms": 0,
            "error": "the server could not be reached",
        }
    ]
    assert message["content"]


def test_a_huge_output_is_cut_for_the_model_and_kept_short(
    api: httpx.Client,
    alice: dict[str, str],
    orders_server: McpTestServer,
    allowed: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MCP_MAX_OUTPUT_BYTES", "4096")

    answered = completion(api, alice, [orders(orders_server, "huge_report")], "The full report of order F6")

    assert answered.status_code == 200, answered.text
    message = answered.json()["choices"][0]["message"]
    [run] = message["tool_runs"]
    assert run["output"].endswith("over the limit of 4096.]") and len(run["output"].encode()) < 4_300
    assert "5040000 bytes" in message["content"]  # the model read the cut output, marker and all
    assert len(answered.content) < 30_000


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("https://169.254.169.254/mcp", "metadata-service"),
        ("https://10.0.0.1/mcp", "private"),
        ("https://localhost:{port}/mcp", "resolves to 127.0.0.1"),
        ("http://127.0.0.1:{port}/mcp", "must be https"),
    ],
)
def test_a_server_on_a_private_address_is_a_400_and_nothing_is_called(
    api: httpx.Client, alice: dict[str, str], orders_server: McpTestServer, url: str, named: str
) -> None:
    tool = {**orders(orders_server), "server_url": url.format(port=orders_server.port)}
    orders_server.calls.clear()

    refused = completion(api, alice, [tool], "Look up order G7")

    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "server_not_allowed"
    assert named in refused.json()["error"]["message"]
    assert orders_server.calls == []


def test_approval_is_asked_for_by_default_and_refused_where_no_answer_can_wait(
    api: httpx.Client, alice: dict[str, str], orders_server: McpTestServer, allowed: None
) -> None:
    tool = {k: v for k, v in orders(orders_server).items() if k != "require_approval"}

    refused = completion(api, alice, [tool], "Look up order H8")

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "approval_unavailable"
    assert orders_server.calls == []


def test_an_mcp_tool_is_never_stored_with_a_conversation(
    api: httpx.Client, alice: dict[str, str], orders_server: McpTestServer
) -> None:
    created = api.post(
        "/v1/conversations", json={"model": "parley-offline", "tools": [orders(orders_server)]}, headers=alice
    )

    assert created.status_code == 400
    assert created.json()["error"] == "mcp_tool_not_stored"
    assert TOKEN not in json.dumps(created.json())


def test_a_streamed_completion_sends_only_the_answer_and_its_runs_at_the_end(
    api: httpx.Client, alice: dict[str, str], orders_server: McpTestServer, allowed: None
) -> None:
    client = openai.OpenAI(
        base_url=f"{str(api.base_url).rstrip('/')}/v1",
        api_key=alice["Authorization"].removeprefix("Bearer "),
        max_retries=0,
    )

    chunks = list(
        client.chat.completions.create(
            model="parley-offline",
            messages=[{"role": "user", "content": "Look up order J9"}],
            tools=[orders(orders_server)],  # type: ignore[list-item]
            stream=True,
        )
    )

    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert "shipped" in text
    assert all(not chunk.choices[0].delta.tool_calls for chunk in chunks if chunk.choices)  # not the client's
    last = chunks[-1].choices[0]
    assert last.finish_reason == "stop"
    [run] = last.delta.model_extra["tool_runs"]  # type: ignore[index]
    assert run["name"] == "lookup_order"


def test_an_assistants_server_keeps_its_credential_sealed_and_uses_it_for_every_client(
    api: httpx.Client, auth: TokenFactory, orders_server: McpTestServer, allowed: None, local_stack: Any
) -> None:
    admin = auth("ada", brands=["acme"], scopes=["admin", "ai:chat"])
    created = api.post(
        "/v1/ai/assistants",
        json={
            "brand_id": "acme",
            "name": "Orders",
            "tools": [orders(orders_server, headers={"X-Shop": SHOP_HEADER})],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assistant = created.json()["assistant"]
    [shown] = assistant["tools"]
    assert (shown["authorization"], shown["headers"]) == ("set", {"X-Shop": "set"})
    read = api.get(f"/v1/ai/assistants/{assistant['assistant_id']}", headers=admin)
    assert read.json()["assistant"]["tools"] == [shown]
    stored = table_text(dynamodb_client(local_stack.database.endpoint), local_stack.table_name)
    assert TOKEN not in stored and SHOP_HEADER not in stored

    bob = auth("bob", brands=["acme"])
    answered = api.post(
        "/v1/chat/completions",
        json={
            "model": f"assistant:{assistant['assistant_id']}",
            "messages": [{"role": "user", "content": "Look up order K1"}],
        },
        headers=bob,
    )
    assert answered.status_code == 200, answered.text
    [run] = answered.json()["choices"][0]["message"]["tool_runs"]
    assert "shipped" in run["output"]
    assert set(orders_server.seen) == {f"Bearer {TOKEN}"}
    chat = api.post(
        "/v1/ai/chat",
        json={
            "brand_id": "acme",
            "user_id": "bob",
            "assistant_id": assistant["assistant_id"],
            "messages": [{"role": "user", "content": "Look up order K2"}],
        },
        headers=bob,
    )
    assert chat.status_code == 200, chat.text
    assert "shipped" in chat.json()["tool_runs"][0]["output"]
    assert TOKEN not in answered.text + chat.text + read.text + created.text


def test_a_conversation_bound_to_an_assistant_answers_with_its_documents_prompt_and_tools(
    api: httpx.Client, auth: TokenFactory, orders_server: McpTestServer, allowed: None
) -> None:
    admin = auth("ada", brands=["acme"], scopes=["admin", "ai:chat", "ai:ingest"])
    scope = f"returns-{uuid.uuid4().hex[:8]}"
    ingested = api.post(
        "/v1/ai/documents",
        json={
            "brand_id": "acme",
            "rag_scope": scope,
            "document_id": "returns",
            "content": "Returns: an order can be returned within 30 days of its delivery.",
        },
        headers=admin,
    )
    assert ingested.status_code == 201, ingested.text
    created = api.post(
        "/v1/ai/assistants",
        json={
            "brand_id": "acme",
            "name": "Orders desk",
            "system_prompt": "You are the orders desk.",
            "rag_scope": scope,
            "threshold": 0,
            "tools": [orders(orders_server)],
        },
        headers=admin,
    )
    assistant_id = created.json()["assistant"]["assistant_id"]
    bob = auth("bob", brands=["acme"])

    bound = api.post("/v1/conversations", json={"assistant_id": assistant_id}, headers=bob)
    assert bound.status_code == 201, bound.text
    conversation = bound.json()["conversation"]
    assert (conversation["assistant_id"], conversation["brand_id"]) == (assistant_id, "acme")
    body = {
        "role": "user",
        "content": "Look up order M1, can it be returned?",
        "mode": "chat-completion",
        "stream": True,
    }
    with api.stream(
        "POST", f"/v1/conversations/{conversation['id']}/messages", json=body, headers=bob
    ) as response:
        assert response.status_code == 200
        events = list(read_events(response.iter_lines()))

    names = [name for name, _ in events]
    assert names[0] == "context" and "tool_result" in names
    [chunk] = dict(events)["context"]["rag_context"]
    assert "30 days" in chunk["content"]
    answer = dict(events)["done"]["assistant_message"]
    assert "shipped" in answer["metadata"]["tool_runs"][0]["output"]
    assert set(orders_server.seen) == {f"Bearer {TOKEN}"}


def test_a_conversation_cannot_be_bound_to_another_brands_assistant(
    api: httpx.Client, auth: TokenFactory, orders_server: McpTestServer, allowed: None
) -> None:
    admin = auth("gus", brands=["globex"], scopes=["admin"])
    created = api.post("/v1/ai/assistants", json={"brand_id": "globex", "name": "Globex"}, headers=admin)
    assistant_id = created.json()["assistant"]["assistant_id"]

    refused = api.post(
        "/v1/conversations", json={"assistant_id": assistant_id}, headers=auth("bob", brands=["acme"])
    )

    assert refused.status_code == 404
    assert refused.json()["error"] == "assistant_not_found"


def test_each_user_connects_their_own_credentials_and_each_server_call_carries_its_users(
    api: httpx.Client, auth: TokenFactory, allowed: None, local_stack: Any
) -> None:
    server = McpTestServer().start()  # accepts any token and records whose came
    try:
        os.environ["MCP_ALLOW_HOSTS"] = f"{os.environ['MCP_ALLOW_HOSTS']},{server.host}"
        admin = auth("ada", brands=["acme"], scopes=["admin", "ai:chat"])
        tool = {**orders(server), "authorization": None, "credentials": "per_user"}
        created = api.post(
            "/v1/ai/assistants", json={"brand_id": "acme", "name": "Mine", "tools": [tool]}, headers=admin
        )
        assert created.status_code == 201, created.text
        model = f"assistant:{created.json()['assistant']['assistant_id']}"
        alice, bob, carol = (auth(name, brands=["acme"]) for name in ("alice", "bob", "carol"))
        for user, token in ((alice, "alice-own-token"), (bob, "bob-own-token")):
            put = api.put("/v1/me/connections/orders", json={"authorization": token}, headers=user)
            assert put.status_code == 200, put.text
            assert put.json()["connection"]["authorization"] == "set" and token not in put.text

        def ask(user: dict[str, str]) -> dict[str, Any]:
            answered = api.post(
                "/v1/chat/completions",
                json={"model": model, "messages": [{"role": "user", "content": "Look up order N1"}]},
                headers=user,
            )
            assert answered.status_code == 200, answered.text
            return dict(answered.json()["choices"][0]["message"])

        server.seen.clear()
        ask(alice)
        assert set(server.seen) == {"Bearer alice-own-token"}
        server.seen.clear()
        ask(bob)
        assert set(server.seen) == {"Bearer bob-own-token"}
        server.seen.clear()
        unconnected = ask(carol)
        assert server.seen == []
        [run] = unconnected["tool_runs"]
        assert run["server_label"] == "orders" and run["error"].startswith("connection_required")

        listed = api.get("/v1/me/connections", headers=alice).json()["connections"]
        assert [(c["server_label"], c["authorization"]) for c in listed] == [("orders", "set")]
        assert api.get("/v1/me/connections", headers=carol).json()["connections"] == []
        assert api.delete("/v1/me/connections/orders", headers=alice).status_code == 204
        assert api.get("/v1/me/connections", headers=alice).json()["connections"] == []
        assert "connection_required" in ask(alice)["tool_runs"][0]["error"]
        stored = table_text(dynamodb_client(local_stack.database.endpoint), local_stack.table_name)
        assert "bob-own-token" not in stored
    finally:
        server.stop()


def test_a_per_user_server_takes_no_shared_credentials(
    api: httpx.Client, auth: TokenFactory, orders_server: McpTestServer, allowed: None
) -> None:
    admin = auth("ada", brands=["acme"], scopes=["admin"])
    tool = {**orders(orders_server), "credentials": "per_user"}

    refused = api.post(
        "/v1/ai/assistants", json={"brand_id": "acme", "name": "Mixed", "tools": [tool]}, headers=admin
    )

    assert refused.status_code == 400
    assert refused.json()["error"] == "per_user_credentials"
