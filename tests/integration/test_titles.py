"""Titles through the gateway: an untitled conversation is titled after its first exchange (a
metered model call, in the usage report), a title the user set is never replaced, and POST
/v1/conversations/{id}/title titles again on demand."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.doubles.fake_providers import ProviderServer

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def titles_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVERSATION_TITLES", "true")  # the other suites turn them off


def chat(api: httpx.Client, headers: dict[str, str], conversation_id: str, content: str) -> httpx.Response:
    return api.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": content, "mode": "chat-completion"},
        headers=headers,
    )


def new(api: httpx.Client, headers: dict[str, str], **body: object) -> str:
    return str(api.post("/v1/conversations", json=body, headers=headers).json()["conversation"]["id"])


def test_the_first_exchange_titles_an_untitled_conversation_and_is_metered(
    api: httpx.Client, auth: TokenFactory
) -> None:
    brand = f"ttl-{uuid.uuid4().hex[:8]}"
    alice = auth(
        "titler", brands=[brand], scopes=["conversations:read", "conversations:write", "ai:chat", "admin"]
    )
    conversation_id = new(api, alice, brand_id=brand)

    assert (
        chat(api, alice, conversation_id, "Where should we go hiking in Portugal this spring?").status_code
        == 200
    )
    titled = api.get(f"/v1/conversations/{conversation_id}", headers=alice).json()["conversation"]
    chat(api, alice, conversation_id, "And what about autumn?")
    later = api.get(f"/v1/conversations/{conversation_id}", headers=alice).json()["conversation"]
    listed = api.get("/v1/conversations", headers=alice).json()["conversations"]
    usage = api.get("/v1/usage", params={"brand_id": brand}, headers=alice).json()

    assert titled["title"] == "Where should we go hiking in"  # the offline model: the first words
    assert later["title"] == titled["title"]  # titled once
    assert [c["title"] for c in listed if c["id"] == conversation_id] == [titled["title"]]
    [offline] = [m for day in usage["days"] for m in day["models"] if m["model"] == "parley-offline"]
    assert offline["calls"] == 3  # two replies and one title


def test_a_claude_conversations_first_exchange_streams_is_stored_titled_and_metered(
    api: httpx.Client, auth: TokenFactory, providers: ProviderServer
) -> None:
    brand = f"ttl-{uuid.uuid4().hex[:8]}"
    alice = auth(
        "claude-titler",
        brands=[brand],
        scopes=["conversations:read", "conversations:write", "ai:chat", "admin"],
    )
    conversation_id = new(api, alice, brand_id=brand, model="claude-sonnet-4-6")

    streamed = api.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": "Plan a walk", "mode": "chat-completion", "stream": True},
        headers=alice,
    )
    stored = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()
    titled = api.get(f"/v1/conversations/{conversation_id}", headers=alice).json()["conversation"]
    usage = api.get("/v1/usage", params={"brand_id": brand}, headers=alice).json()

    assert streamed.status_code == 200 and "event: error" not in streamed.text
    assert [m["content"] for m in stored["messages"]] == ["Plan a walk", "Echo: Plan a walk"]
    assert titled["title"]  # the title call went out with temperature 0, and was answered
    [claude] = [m for day in usage["days"] for m in day["models"] if m["model"] == "claude-sonnet-4-6"]
    assert claude["calls"] == 2  # the reply and the title


def test_a_title_the_user_set_is_never_replaced(api: httpx.Client, auth: TokenFactory) -> None:
    alice = auth("namer")
    conversation_id = new(api, alice, title="My trip")

    chat(api, alice, conversation_id, "Where should we go hiking in Portugal this spring?")
    again = api.post(f"/v1/conversations/{conversation_id}/title", headers=alice)
    kept = api.get(f"/v1/conversations/{conversation_id}", headers=alice).json()["conversation"]

    assert again.status_code == 409 and again.json()["error"] == "title_set_by_user"
    assert kept["title"] == "My trip"


def test_a_generated_title_can_be_made_again_and_others_cannot(api: httpx.Client, auth: TokenFactory) -> None:
    alice = auth("retitler")
    conversation_id = new(api, alice)
    empty = new(api, alice)
    chat(api, alice, conversation_id, "Budget for a week in Lisbon")
    chat(api, alice, conversation_id, "Cheapest flights from Berlin?")

    retitled = api.post(f"/v1/conversations/{conversation_id}/title", headers=alice)
    stranger = api.post(f"/v1/conversations/{conversation_id}/title", headers=auth("stranger"))
    nothing = api.post(f"/v1/conversations/{empty}/title", headers=alice)

    assert retitled.status_code == 200, retitled.text
    assert retitled.json()["conversation"]["title"] == "Budget for a week in Lisbon"
    assert stranger.status_code == 404
    assert nothing.status_code == 409 and nothing.json()["error"] == "nothing_to_title"
