"""The chats API (document 002) through the gateway: cookie and bearer sessions, every row of the
document's error table, workflows, and one stored thing seen through both APIs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from local.token import mint
from tests.conftest import TokenFactory
from tests.doubles.fake_providers import ANTHROPIC_PATH, OPENAI_PATH, ProviderServer, Scripted, openai_error

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).parent.parent / "contract" / "schemas"


def matches(schema: str, document: Any) -> bool:
    validator = Draft202012Validator(
        json.loads((SCHEMAS / f"{schema}.json").read_text()), format_checker=FormatChecker()
    )
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, errors
    return True


def cookie(sub: str, **claims: Any) -> dict[str, str]:
    return {"Cookie": f"session={mint(sub, **claims)}"}


def new_chat(api: httpx.Client, headers: dict[str, str], **body: Any) -> str:
    response = api.post("/api/chats", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def send(api: httpx.Client, chat_id: str, headers: dict[str, str], **body: Any) -> httpx.Response:
    payload = {
        "content": "How can I automate my research workflow?",
        "modelId": "parley-offline",
        "userId": "alice",
        **body,
    }
    return api.post(f"/api/chats/{chat_id}/messages", json=payload, headers=headers)


def chat_total(api: httpx.Client, chat_id: str, headers: dict[str, str]) -> int:
    return len(api.get(f"/api/chats/{chat_id}/messages", headers=headers).json()["data"])


def test_a_message_with_a_session_cookie_gets_a_201_with_the_response(api: httpx.Client) -> None:
    alice = cookie("alice")
    chat = api.post("/api/chats", json={"title": "Research"}, headers=alice)
    chat_id = chat.json()["data"]["id"]

    response = send(api, chat_id, alice)

    assert chat.status_code == 201
    assert set(chat.json()["data"]) == {"id", "userId", "title", "modelId", "createdAt"}
    assert response.status_code == 201
    assert matches("chat_messages_create.201", response.json())
    data = response.json()["data"]
    assert data["chatId"] == data["response"]["chatId"] == chat_id
    assert data["content"] == "How can I automate my research workflow?"


def test_bearer_tokens_work_as_well(api: httpx.Client, auth: TokenFactory) -> None:
    alice = auth("alice")
    chat_id = new_chat(api, alice)

    assert send(api, chat_id, alice).status_code == 201


def test_a_chat_reads_back_through_the_conversations_api(api: httpx.Client, auth: TokenFactory) -> None:
    alice = auth("alice")
    chat_id = new_chat(api, alice, title="Both APIs")
    sent = send(api, chat_id, alice).json()["data"]

    history = api.get(f"/v1/conversations/{chat_id}/messages", headers=alice).json()

    assert history["total"] == 2
    assert [m["id"] for m in history["messages"]] == [sent["id"], sent["response"]["id"]]
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"]


# The document's error table: 400 invalid body or parameters, 401 invalid or missing session,
# 403 another user's chat, 404 chat does not exist.
@pytest.mark.parametrize(
    ("case", "chat", "body"),
    [
        ("a chatId that is not a UUID", "not-a-uuid", {}),
        ("empty content", None, {"content": ""}),
        ("an unknown modelId", None, {"modelId": "gpt-17"}),
        ("missing userId", None, {"userId": None}),
        ("content of the wrong type", None, {"content": 42}),
        ("a workflowId that is not a UUID", None, {"workflowId": "wf-1"}),
    ],
)
def test_invalid_body_or_parameters_are_a_400(
    api: httpx.Client, case: str, chat: str | None, body: dict[str, Any]
) -> None:
    alice = cookie("alice")
    chat_id = chat or new_chat(api, alice)

    response = send(api, chat_id, alice, **body)

    assert response.status_code == 400, case
    assert matches("error", response.json())
    if chat is None:
        assert chat_total(api, chat_id, alice) == 0


@pytest.mark.parametrize("session", [None, "not-a-token", mint("alice", ttl=-300)])
def test_an_invalid_or_missing_session_is_a_401(api: httpx.Client, session: str | None) -> None:
    chat_id = new_chat(api, cookie("alice"))
    headers = {"Cookie": f"session={session}"} if session else {}

    response = send(api, chat_id, headers)

    assert response.status_code == 401
    assert matches("error", response.json())


def test_posting_to_another_users_chat_is_a_403(api: httpx.Client) -> None:
    chat_id = new_chat(api, cookie("alice"))

    response = send(api, chat_id, cookie("mallory"), userId="mallory")
    listing = api.get(f"/api/chats/{chat_id}/messages", headers=cookie("mallory"))

    assert response.status_code == 403 and listing.status_code == 403
    assert matches("error", response.json())
    assert chat_total(api, chat_id, cookie("alice")) == 0


def test_a_userid_that_is_not_the_sessions_user_is_a_403(api: httpx.Client) -> None:
    alice = cookie("alice")
    chat_id = new_chat(api, alice)

    response = send(api, chat_id, alice, userId="user-123")

    assert response.status_code == 403
    assert "userId" in response.json()["message"]
    assert chat_total(api, chat_id, alice) == 0


def test_a_chat_that_does_not_exist_is_a_404(api: httpx.Client) -> None:
    missing = "550e8400-e29b-41d4-a716-446655440000"

    response = send(api, missing, cookie("alice"))
    listing = api.get(f"/api/chats/{missing}/messages", headers=cookie("alice"))

    assert response.status_code == 404 and listing.status_code == 404
    assert response.json()["error"] == "chat_not_found"


def test_the_chat_listing_pages_back_with_a_cursor(api: httpx.Client) -> None:
    alice = cookie("alice")
    chat_id = new_chat(api, alice)
    for n in range(3):
        send(api, chat_id, alice, content=f"m{n}")

    newest = api.get(f"/api/chats/{chat_id}/messages", params={"limit": 4}, headers=alice).json()
    older = api.get(
        f"/api/chats/{chat_id}/messages", params={"limit": 4, "cursor": newest["nextCursor"]}, headers=alice
    ).json()

    assert [m["content"] for m in newest["data"] if m["role"] == "user"] == ["m1", "m2"]
    assert [m["role"] for m in older["data"]] == ["user", "assistant"]
    assert older["data"][0]["content"] == "m0"
    assert older["nextCursor"] is None


def workflow(api: httpx.Client, headers: dict[str, str], steps: list[dict[str, Any]]) -> str:
    response = api.post("/api/workflows", json={"name": "Two steps", "steps": steps}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def test_a_two_step_workflow_runs_in_order_against_both_providers(
    api: httpx.Client, providers: ProviderServer
) -> None:
    alice = cookie("alice")
    workflow_id = workflow(
        api,
        alice,
        [
            {"prompt": "Summarise: {{input}}", "modelId": "gpt-4o"},
            {"prompt": "Translate to French: {{previous}}", "modelId": "claude-sonnet-4-6"},
        ],
    )
    chat_id = new_chat(api, alice)

    response = send(
        api, chat_id, alice, content="Parley stores chats.", workflowId=workflow_id, modelId="gpt-4o"
    )

    assert response.status_code == 201, response.text
    first = providers.requests_to(OPENAI_PATH)[0].body["messages"][-1]["content"]
    second = providers.requests_to(ANTHROPIC_PATH)[0].body["messages"][-1]["content"][0]["text"]
    assert first == "Summarise: Parley stores chats."
    assert second == "Translate to French: Echo: Summarise: Parley stores chats."
    assert response.json()["data"]["response"]["content"] == f"Echo: {second}"
    stored = api.get(f"/v1/conversations/{chat_id}/messages", headers=alice).json()["messages"][-1]
    steps = stored["metadata"]["workflow"]["steps"]
    assert [s["modelId"] for s in steps] == ["gpt-4o", "claude-sonnet-4-6"]
    assert steps and all(s["usage"]["total_tokens"] > 0 and isinstance(s["durationMs"], int) for s in steps)


def test_an_unknown_workflow_is_a_404_that_names_the_workflow(api: httpx.Client) -> None:
    alice = cookie("alice")
    chat_id = new_chat(api, alice)

    response = send(api, chat_id, alice, workflowId="550e8400-e29b-41d4-a716-446655440000")

    assert response.status_code == 404
    assert response.json()["error"] == "workflow_not_found"
    assert "workflow" in response.json()["message"].lower() and "chat does" in response.json()["message"]


def test_a_failing_step_is_a_502_naming_the_step_and_writes_nothing(
    api: httpx.Client, providers: ProviderServer
) -> None:
    alice = cookie("alice")
    workflow_id = workflow(
        api,
        alice,
        [
            {"prompt": "{{input}}", "modelId": "claude-sonnet-4-6"},
            {"prompt": "{{previous}}", "modelId": "gpt-4o"},
        ],
    )
    chat_id = new_chat(api, alice)
    providers.script(
        OPENAI_PATH,
        *[Scripted(status=500, body=openai_error("boom", "server_error"), headers={"retry-after-ms": "10"})]
        * 3,
    )

    response = send(api, chat_id, alice, workflowId=workflow_id)

    assert response.status_code == 502
    assert response.json()["error"] == "workflow_step_failed"
    assert "step 2 of 2" in response.json()["message"]
    assert chat_total(api, chat_id, alice) == 0


def test_workflows_need_admin_and_valid_steps(api: httpx.Client) -> None:
    user = cookie("alice", scopes=["conversations:read", "conversations:write", "ai:chat"])
    admin = cookie("alice")

    forbidden = api.post("/api/workflows", json={"name": "x", "steps": [{"prompt": "p"}]}, headers=user)
    no_steps = api.post("/api/workflows", json={"name": "x", "steps": []}, headers=admin)
    eleven = api.post("/api/workflows", json={"name": "x", "steps": [{"prompt": "p"}] * 11}, headers=admin)
    bad_model = api.post(
        "/api/workflows", json={"name": "x", "steps": [{"prompt": "p", "modelId": "gpt-17"}]}, headers=admin
    )

    assert forbidden.status_code == 403
    assert [r.status_code for r in (no_steps, eleven, bad_model)] == [400, 400, 400]


def test_a_stored_workflow_reads_back(api: httpx.Client) -> None:
    admin = cookie("alice")
    steps = [
        {"prompt": "Summarise: {{input}}"},
        {"prompt": "{{previous}}", "modelId": "gpt-4o", "ragScope": "docs"},
    ]
    workflow_id = workflow(api, admin, steps)

    read = api.get(f"/api/workflows/{workflow_id}", headers=admin)

    assert read.status_code == 200
    assert read.json()["data"]["steps"] == [{**steps[0], "modelId": None, "ragScope": None}, steps[1]]


@pytest.mark.parametrize(
    ("origin", "allowed"), [("https://app.example.com", True), ("https://evil.example", False)]
)
def test_cors_allows_credentials_only_for_listed_origins(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch, origin: str, allowed: bool
) -> None:

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://app.example.com, https://admin.example.com")

    preflight = api.options("/api/chats", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    actual = api.post("/api/chats", json={}, headers={**cookie("alice"), "Origin": origin})

    assert preflight.status_code == 204
    for response in (preflight, actual):
        assert response.headers.get("Access-Control-Allow-Origin") == (origin if allowed else None)
        assert response.headers.get("Access-Control-Allow-Credentials") == ("true" if allowed else None)
