"""An assistant's MCP credentials over its life, through the local gateway against real MCP
servers: changed in place (kept when sent back as "set", to the same URL only; replaced; gone with
their server), confined to the assistant's brand, and never in a response or a log line, whether
the calls succeed or fail (docs/tools.md)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.dynamodb import client as dynamodb_client
from tests.conftest import TokenFactory
from tests.doubles.mcp_servers import McpTestServer
from tests.integration.test_observability import logs  # noqa: F401  (a fixture: Parley's log lines)

pytestmark = pytest.mark.integration

TOKEN = "kept-secret-90d1"
NEW_TOKEN = "new-secret-3b7e"
HEADER = "shop-secret-55aa"


@pytest.fixture(scope="module")
def guarded() -> Iterator[McpTestServer]:
    server = McpTestServer(required_token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def open_server() -> Iterator[McpTestServer]:
    server = McpTestServer().start()
    yield server
    server.stop()


@pytest.fixture
def servers(
    guarded: McpTestServer, open_server: McpTestServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[McpTestServer, McpTestServer]:
    monkeypatch.setenv("MCP_ALLOW_HOSTS", f"{guarded.host},{open_server.host}")
    for server in (guarded, open_server):
        server.seen.clear()
        server.calls.clear()
    return guarded, open_server


@pytest.fixture
def brand() -> str:
    return f"cred-{uuid.uuid4().hex[:8]}"


def server_entry(server: McpTestServer, **extra: Any) -> dict[str, Any]:
    return {
        "type": "mcp",
        "server_label": "orders",
        "server_url": server.url,
        "authorization": TOKEN,
        "headers": {"X-Shop": HEADER},
        "allowed_tools": ["lookup_order"],
        "require_approval": "never",
        **extra,
    }


def create(api: httpx.Client, admin: dict[str, str], brand: str, tools: list[Any]) -> dict[str, Any]:
    made = api.post(
        "/v1/ai/assistants", json={"brand_id": brand, "name": "Orders", "tools": tools}, headers=admin
    )
    assert made.status_code == 201, made.text
    return dict(made.json()["assistant"])


def update(
    api: httpx.Client, admin: dict[str, str], assistant: dict[str, Any], **change: Any
) -> httpx.Response:
    body = {k: v for k, v in assistant.items() if k not in ("assistant_id", "created_at")} | change
    return api.put(f"/v1/ai/assistants/{assistant['assistant_id']}", json=body, headers=admin)


def answer(api: httpx.Client, user: dict[str, str], assistant: dict[str, Any]) -> dict[str, Any]:
    answered = api.post(
        "/v1/chat/completions",
        json={
            "model": f"assistant:{assistant['assistant_id']}",
            "messages": [{"role": "user", "content": "Look up order Z1"}],
        },
        headers=user,
    )
    assert answered.status_code == 200, answered.text
    return dict(answered.json()["choices"][0]["message"])


def sealed_of(local_stack: Any, assistant_id: str) -> str | None:
    item = dynamodb_client(local_stack.database.endpoint).get_item(
        TableName=local_stack.table_name, Key={"PK": {"S": f"AST#{assistant_id}"}, "SK": {"S": "~META"}}
    )["Item"]
    return item.get("sealed_credentials", {}).get("S")


def test_an_update_that_sends_the_credentials_back_as_set_keeps_them(
    api: httpx.Client,
    auth: TokenFactory,
    servers: tuple[McpTestServer, McpTestServer],
    brand: str,
    local_stack: Any,
) -> None:
    guarded, _ = servers
    admin = auth("ada", brands=[brand], scopes=["admin"])
    assistant = create(api, admin, brand, [server_entry(guarded)])
    sealed = sealed_of(local_stack, assistant["assistant_id"])

    changed = update(api, admin, assistant, name="Orders desk", system_prompt="Be brief.")

    assert changed.status_code == 200, changed.text
    shown = changed.json()["assistant"]
    assert (shown["name"], shown["created_at"]) == ("Orders desk", assistant["created_at"])
    assert shown["tools"] == assistant["tools"]  # still "set"
    read = api.get(f"/v1/ai/assistants/{assistant['assistant_id']}", headers=admin).json()["assistant"]
    assert read == shown
    assert sealed_of(local_stack, assistant["assistant_id"]) == sealed  # the same sealed credentials
    assert "shipped" in answer(api, auth("bob", brands=[brand]), read)["tool_runs"][0]["output"]
    assert set(guarded.seen) == {f"Bearer {TOKEN}"}


def test_new_credentials_replace_the_old_and_a_server_left_out_takes_its_own(
    api: httpx.Client,
    auth: TokenFactory,
    servers: tuple[McpTestServer, McpTestServer],
    brand: str,
    local_stack: Any,
) -> None:
    guarded, open_server = servers
    admin = auth("ada", brands=[brand], scopes=["admin"])
    assistant = create(api, admin, brand, [server_entry(guarded)])

    moved = update(
        api, admin, assistant, tools=[server_entry(open_server, authorization=NEW_TOKEN, headers=None)]
    )
    assert moved.status_code == 200, moved.text
    answer(api, auth("bob", brands=[brand]), assistant)
    assert set(open_server.seen) == {f"Bearer {NEW_TOKEN}"} and guarded.seen == []

    emptied = update(api, admin, assistant, tools=None)
    assert emptied.status_code == 200, emptied.text
    assert sealed_of(local_stack, assistant["assistant_id"]) is None
    assert NEW_TOKEN not in moved.text + emptied.text


@pytest.mark.parametrize(
    "tools",
    [
        # kept credentials never go to another server
        lambda guarded, other: [
            {**server_entry(other), "authorization": "set", "headers": {"X-Shop": "set"}}
        ],
        # all of them "set", or all of them new
        lambda guarded, other: [{**server_entry(guarded), "authorization": "set"}],
        # "set" for a credential that was never stored
        lambda guarded, other: [
            {**server_entry(guarded), "authorization": "set", "headers": {"X-Other": "set"}}
        ],
    ],
    ids=["another-url", "half-kept", "never-stored"],
)
def test_credentials_kept_otherwise_than_stored_are_a_400_and_change_nothing(
    api: httpx.Client,
    auth: TokenFactory,
    servers: tuple[McpTestServer, McpTestServer],
    brand: str,
    local_stack: Any,
    tools: Any,
) -> None:
    guarded, open_server = servers
    admin = auth("ada", brands=[brand], scopes=["admin"])
    assistant = create(api, admin, brand, [server_entry(guarded)])
    sealed = sealed_of(local_stack, assistant["assistant_id"])

    refused = update(api, admin, assistant, name="Moved", tools=tools(guarded, open_server))

    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "credentials_not_kept"
    read = api.get(f"/v1/ai/assistants/{assistant['assistant_id']}", headers=admin).json()["assistant"]
    assert read["name"] == "Orders" and sealed_of(local_stack, assistant["assistant_id"]) == sealed


def test_an_assistant_stays_in_its_brand_and_another_brands_admin_cannot_change_it(
    api: httpx.Client, auth: TokenFactory, servers: tuple[McpTestServer, McpTestServer], brand: str
) -> None:
    guarded, _ = servers
    admin = auth("ada", brands=[brand, "other-brand"], scopes=["admin"])
    assistant = create(api, admin, brand, [server_entry(guarded)])

    moved = update(api, admin, assistant, brand_id="other-brand")
    stranger = update(
        api, auth("eve", brands=["other-brand"], scopes=["admin"]), assistant, brand_id="other-brand"
    )
    not_admin = update(api, auth("bob", brands=[brand], scopes=["ai:chat"]), assistant, name="Mine")

    assert (moved.status_code, moved.json()["error"]) == (400, "brand_fixed")
    assert stranger.status_code == 404
    assert not_admin.status_code == 403


def test_no_credential_reaches_a_log_line_or_a_response_when_calls_work_or_fail(
    api: httpx.Client,
    auth: TokenFactory,
    servers: tuple[McpTestServer, McpTestServer],
    brand: str,
    logs: io.StringIO,  # noqa: F811
    capfd: pytest.CaptureFixture[str],
) -> None:
    guarded, _ = servers
    admin = auth("ada", brands=[brand], scopes=["admin"])
    wrong = {**server_entry(guarded, server_label="wrong"), "authorization": NEW_TOKEN}  # refused: a 401
    broken = server_entry(guarded, server_label="broken", allowed_tools=["broken_lookup"])
    assistant = create(api, admin, brand, [server_entry(guarded), wrong])
    user = auth("bob", brands=[brand])

    responses = [
        json.dumps(answer(api, user, assistant)),
        update(api, admin, assistant, name="Orders again").text,
        api.get(f"/v1/ai/assistants/{assistant['assistant_id']}", headers=admin).text,
        api.post(
            "/v1/chat/completions",
            json={
                "model": "parley-offline",
                "messages": [{"role": "user", "content": "Order Z2?"}],
                "tools": [broken],
            },
            headers=user,
        ).text,
    ]

    captured = capfd.readouterr()
    written = logs.getvalue() + captured.out + captured.err
    assert "a tool call failed" in written  # the failure is logged, its credentials not
    assert '"server_label": "wrong", "name": "tools/list"' in responses[0]  # refused by the server, named
    for secret in (TOKEN, NEW_TOKEN, HEADER):
        assert secret not in written
        assert all(secret not in response for response in responses)
