"""Branches through the gateway: regenerate (whole and streamed, once per Idempotency-Key),
PATCH active_message_id, edits, the chats API and the export on the active branch, and the
mistakes a client can make, each a 4xx that writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.doubles.fake_providers import OPENAI_PATH, ProviderServer
from tests.integration.test_streaming import read_events

pytestmark = pytest.mark.integration


@pytest.fixture
def alice(auth: TokenFactory) -> dict[str, str]:
    return auth("alice", brands=["acme"])


def new_conversation(api: httpx.Client, headers: dict[str, str], **body: Any) -> str:
    response = api.post("/v1/conversations", json={"title": "Trips", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["conversation"]["id"])


def ask(api: httpx.Client, headers: dict[str, str], conversation_id: str, content: str, **body: Any) -> Any:
    response = api.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": content, "mode": "chat-completion", **body},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def branch(api: httpx.Client, headers: dict[str, str], conversation_id: str) -> list[dict[str, Any]]:
    response = api.get(
        f"/v1/conversations/{conversation_id}/messages", params={"limit": 100}, headers=headers
    )
    assert response.status_code == 200
    return list(response.json()["messages"])


def test_regenerate_answers_the_same_turns_again_and_switching_back_restores_the_first(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = new_conversation(api, alice, model="gpt-4o")
    first = ask(api, alice, conversation_id, "Where in May?")
    url = f"/v1/conversations/{conversation_id}/messages/{first['assistant_message']['id']}/regenerate"

    again = api.post(url, headers=alice)

    assert again.status_code == 200, again.text
    second = again.json()["assistant_message"]
    sent = providers.requests_to(OPENAI_PATH)[-1].body["messages"]
    assert [m["content"] for m in sent] == ["Where in May?"]  # the same turns, not the old answer
    assert second["parent_id"] == first["message"]["id"]
    assert second["branch"] == {
        "index": 2,
        "count": 2,
        "previous_id": first["assistant_message"]["id"],
        "next_id": None,
    }
    assert [m["id"] for m in branch(api, alice, conversation_id)] == [first["message"]["id"], second["id"]]

    switched = api.patch(
        f"/v1/conversations/{conversation_id}",
        json={"active_message_id": first["assistant_message"]["id"]},
        headers=alice,
    )

    assert switched.status_code == 200, switched.text
    assert switched.json()["conversation"]["active_message_id"] == first["assistant_message"]["id"]
    shown = branch(api, alice, conversation_id)
    assert [m["id"] for m in shown] == [first["message"]["id"], first["assistant_message"]["id"]]
    assert shown[1]["branch"] == {"index": 1, "count": 2, "previous_id": None, "next_id": second["id"]}


def test_a_regenerated_answer_streams_and_done_is_the_200_body(
    api: httpx.Client, alice: dict[str, str]
) -> None:
    conversation_id = new_conversation(api, alice)
    first = ask(api, alice, conversation_id, "Where in May?")
    url = f"/v1/conversations/{conversation_id}/messages/{first['assistant_message']['id']}/regenerate"

    with api.stream("POST", url, json={"stream": True}, headers=alice) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = list(read_events(response.iter_lines()))

    names = [name for name, _ in events]
    assert names[-1] == "done" and "delta" in names
    done = events[-1][1]
    assert "".join(d["content"] for n, d in events if n == "delta") == done["assistant_message"]["content"]
    assert branch(api, alice, conversation_id)[-1] == done["assistant_message"]


def test_a_retried_regenerate_with_the_same_idempotency_key_makes_one_answer(
    api: httpx.Client, alice: dict[str, str]
) -> None:
    conversation_id = new_conversation(api, alice)
    first = ask(api, alice, conversation_id, "Where in May?")
    url = f"/v1/conversations/{conversation_id}/messages/{first['assistant_message']['id']}/regenerate"
    headers = {**alice, "Idempotency-Key": str(uuid.uuid4())}

    once, twice = (api.post(url, headers=headers) for _ in range(2))

    assert once.status_code == twice.status_code == 200
    assert once.json() == twice.json()
    assert branch(api, alice, conversation_id)[-1]["branch"]["count"] == 2  # not 3


def test_an_edit_forks_and_the_chats_api_and_the_export_follow_the_active_branch(
    api: httpx.Client, alice: dict[str, str]
) -> None:
    conversation_id = new_conversation(api, alice)
    first = ask(api, alice, conversation_id, "Where in May?")
    ask(api, alice, conversation_id, "And the food?")

    edited = ask(api, alice, conversation_id, "And the wine?", parent_id=first["assistant_message"]["id"])

    assert edited["message"]["branch"]["count"] == 2
    chat = api.get(f"/api/chats/{conversation_id}/messages", params={"limit": 10}, headers=alice).json()
    assert [m["content"] for m in chat["data"]][2] == "And the wine?"
    sent = api.post(
        f"/api/chats/{conversation_id}/messages",
        json={"content": "Thanks", "modelId": "parley-offline", "userId": "alice"},
        headers=alice,
    )
    assert sent.status_code == 201, sent.text
    shown = branch(api, alice, conversation_id)
    assert [m["content"] for m in shown][2::2] == ["And the wine?", "Thanks"]
    assert shown[4]["parent_id"] == edited["assistant_message"]["id"]
    exported = api.get(
        f"/v1/conversations/{conversation_id}/export", params={"format": "json"}, headers=alice
    )
    assert [m["id"] for m in exported.json()["messages"]] == [m["id"] for m in shown]


def test_branch_mistakes_are_4xx_that_write_nothing(
    api: httpx.Client, alice: dict[str, str], auth: TokenFactory
) -> None:
    conversation_id = new_conversation(api, alice)
    first = ask(api, alice, conversation_id, "Where in May?")
    question, answer = first["message"]["id"], first["assistant_message"]["id"]
    unknown = str(uuid.uuid4())
    before = branch(api, alice, conversation_id)
    messages = f"/v1/conversations/{conversation_id}/messages"

    cases = [
        (api.post(messages, json={"role": "user", "content": "x", "parent_id": unknown}, headers=alice), 400),
        (api.post(messages, json={"role": "user", "content": "x", "parent_id": "nope"}, headers=alice), 400),
        (api.post(f"{messages}/{question}/regenerate", headers=alice), 400),
        (api.post(f"{messages}/{unknown}/regenerate", headers=alice), 404),
        (api.post(f"{messages}/{answer}/regenerate", json={"temperature": 2}, headers=alice), 400),
        (
            api.patch(
                f"/v1/conversations/{conversation_id}", json={"active_message_id": unknown}, headers=alice
            ),
            404,
        ),
        (api.patch(f"/v1/conversations/{conversation_id}", json={}, headers=alice), 400),
        (api.patch(f"/v1/conversations/{conversation_id}", json={"title": "x"}, headers=alice), 400),
    ]
    mallory = auth("mallory", brands=["acme"])
    cases += [
        (api.post(f"{messages}/{answer}/regenerate", headers=mallory), 404),
        (
            api.patch(
                f"/v1/conversations/{conversation_id}", json={"active_message_id": answer}, headers=mallory
            ),
            404,
        ),
    ]

    for response, status in cases:
        assert response.status_code == status, response.text
        assert set(response.json()) == {"error", "message"}
    assert branch(api, alice, conversation_id) == before
