"""The conversations API over real HTTP: local gateway, authorizer, DynamoDB Local."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.integration.index_reads import listed_ids

pytestmark = pytest.mark.integration


def create(api: httpx.Client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = api.post("/v1/conversations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    conversation: dict[str, Any] = response.json()["conversation"]
    return conversation


def total(api: httpx.Client, headers: dict[str, str], conversation_id: str) -> int:
    response = api.get(f"/v1/conversations/{conversation_id}/messages", headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def test_a_conversation_from_creation_to_deletion(api: httpx.Client, auth: TokenFactory) -> None:
    alice = auth("alice", brands=["acme"])
    conversation = create(api, alice, title="Trip", system_prompt="Be brief.", brand_id="acme")
    messages_url = f"/v1/conversations/{conversation['id']}/messages"

    first = api.post(messages_url, json={"role": "user", "content": "Hello"}, headers=alice)
    reply = api.post(
        messages_url, json={"role": "user", "content": "Plan May", "mode": "chat-completion"}, headers=alice
    )
    page = api.get(messages_url, params={"limit": 2}, headers=alice)
    listing = api.get("/v1/conversations", headers=alice)
    read = api.get(f"/v1/conversations/{conversation['id']}", headers=alice)

    assert first.status_code == 200 and first.json()["assistant_message"] is None
    assert reply.status_code == 200
    assistant = reply.json()["assistant_message"]
    assert assistant["role"] == "assistant" and assistant["metadata"]["provider"] == "offline"
    assert page.json()["total"] == 3
    assert [m["id"] for m in page.json()["messages"]] == [reply.json()["message"]["id"], assistant["id"]]
    assert conversation["id"] in [c["id"] for c in listing.json()["conversations"]]
    assert read.json()["conversation"]["message_count"] == 3

    deleted = api.delete(f"/v1/conversations/{conversation['id']}", headers=alice)

    assert deleted.status_code == 204 and deleted.content == b""
    assert api.get(messages_url, headers=alice).status_code == 404


def test_history_pages_back_with_before(api: httpx.Client, auth: TokenFactory) -> None:
    alice = auth("alice")
    conversation = create(api, alice)
    url = f"/v1/conversations/{conversation['id']}/messages"
    ids = [
        api.post(url, json={"role": "user", "content": f"m{n}"}, headers=alice).json()["message"]["id"]
        for n in range(5)
    ]

    newest = api.get(url, params={"limit": 3}, headers=alice).json()
    older = api.get(url, params={"limit": 3, "before": newest["messages"][0]["id"]}, headers=alice).json()

    assert [m["id"] for m in newest["messages"]] == ids[2:]
    assert [m["id"] for m in older["messages"]] == ids[:2]
    assert newest["total"] == older["total"] == 5


def test_the_default_history_page_is_50(api: httpx.Client, auth: TokenFactory) -> None:
    alice = auth("alice")
    conversation = create(api, alice)
    url = f"/v1/conversations/{conversation['id']}/messages"
    for n in range(55):
        assert api.post(url, json={"role": "user", "content": f"m{n}"}, headers=alice).status_code == 200

    page = api.get(url, headers=alice).json()

    assert page["total"] == 55
    assert len(page["messages"]) == 50
    assert page["messages"][-1]["content"] == "m54"


BAD_APPENDS = [
    ("malformed JSON", '{"role": "user", "content": ', "JSON"),
    ("a JSON array", "[1, 2]", "body"),
    ("content of the wrong type", '{"role": "user", "content": 5}', "content"),
    ("empty content", '{"role": "user", "content": ""}', "content"),
    ("missing content", '{"role": "user"}', "content"),
    ("missing role", '{"content": "hi"}', "role"),
    ("a role outside the enum", '{"role": "robot", "content": "hi"}', "role"),
    ("an unknown mode", '{"role": "user", "content": "hi", "mode": "stream"}', "mode"),
    ("metadata that is not an object", '{"role": "user", "content": "hi", "metadata": [1]}', "metadata"),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_APPENDS, ids=[case for case, _, _ in BAD_APPENDS])
def test_bad_input_is_a_400_naming_the_problem_and_writes_nothing(
    api: httpx.Client, auth: TokenFactory, case: str, body: str, field: str
) -> None:
    alice = auth("alice")
    conversation = create(api, alice)

    response = api.post(
        f"/v1/conversations/{conversation['id']}/messages",
        content=body,
        headers={**alice, "Content-Type": "application/json"},
    )

    assert response.status_code == 400, case
    assert response.json()["error"] == "invalid_request"
    assert field in response.json()["message"]
    assert total(api, alice, conversation["id"]) == 0


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten", "1.5"])
def test_a_limit_outside_1_to_200_is_a_400(api: httpx.Client, auth: TokenFactory, limit: str) -> None:
    alice = auth("alice")
    conversation = create(api, alice)

    response = api.get(
        f"/v1/conversations/{conversation['id']}/messages", params={"limit": limit}, headers=alice
    )

    assert response.status_code == 400
    assert "limit" in response.json()["message"]


def test_content_over_256_kib_is_a_413_and_writes_nothing(api: httpx.Client, auth: TokenFactory) -> None:
    alice = auth("alice")
    conversation = create(api, alice)

    response = api.post(
        f"/v1/conversations/{conversation['id']}/messages",
        json={"role": "user", "content": "x" * (256 * 1024 + 1)},
        headers=alice,
    )

    assert response.status_code == 413
    assert response.json()["error"] == "content_too_large"
    assert total(api, alice, conversation["id"]) == 0


def test_content_of_exactly_256_kib_is_stored(api: httpx.Client, auth: TokenFactory) -> None:
    alice = auth("alice")
    conversation = create(api, alice)

    response = api.post(
        f"/v1/conversations/{conversation['id']}/messages",
        json={"role": "user", "content": "x" * (256 * 1024)},
        headers=alice,
    )

    assert response.status_code == 200
    assert total(api, alice, conversation["id"]) == 1


def test_another_users_conversation_is_a_404_everywhere(api: httpx.Client, auth: TokenFactory) -> None:
    alice, mallory = auth("alice"), auth("mallory")
    conversation = create(api, alice)
    base = f"/v1/conversations/{conversation['id']}"

    responses = [
        api.get(base, headers=mallory),
        api.get(f"{base}/messages", headers=mallory),
        api.post(f"{base}/messages", json={"role": "user", "content": "hi"}, headers=mallory),
        api.post(
            f"{base}/messages",
            json={"role": "user", "content": "hi", "mode": "chat-completion"},
            headers=mallory,
        ),
        api.delete(base, headers=mallory),
    ]

    assert [r.status_code for r in responses] == [404] * 5
    assert {r.json()["error"] for r in responses} == {"conversation_not_found"}
    assert total(api, alice, conversation["id"]) == 0
    assert conversation["id"] not in [
        c["id"] for c in api.get("/v1/conversations", headers=mallory).json()["conversations"]
    ]


def test_an_unknown_conversation_is_a_404_and_a_malformed_id_a_400(
    api: httpx.Client, auth: TokenFactory
) -> None:
    alice = auth("alice")

    missing = api.get("/v1/conversations/0192f5c8-0000-7000-8000-000000000000/messages", headers=alice)
    malformed = api.get("/v1/conversations/12345/messages", headers=alice)

    assert missing.status_code == 404 and missing.json()["error"] == "conversation_not_found"
    assert malformed.status_code == 400 and malformed.json()["error"] == "invalid_conversation_id"


def test_creating_with_an_unknown_model_or_field_is_a_400(api: httpx.Client, auth: TokenFactory) -> None:
    alice = auth("alice")

    unknown_model = api.post("/v1/conversations", json={"model": "gpt-17"}, headers=alice)
    unknown_field = api.post("/v1/conversations", json={"titel": "typo"}, headers=alice)

    assert unknown_model.status_code == 400 and unknown_model.json()["error"] == "unknown_model"
    assert "parley-offline" in unknown_model.json()["message"]
    assert unknown_field.status_code == 400 and "titel" in unknown_field.json()["message"]


def test_a_brand_outside_the_token_is_a_403(api: httpx.Client, auth: TokenFactory) -> None:
    response = api.post(
        "/v1/conversations", json={"brand_id": "globex"}, headers=auth("alice", brands=["acme"])
    )

    assert response.status_code == 403
    assert "globex" in response.json()["message"]


def test_listing_pages_with_an_opaque_cursor(api: httpx.Client, auth: TokenFactory) -> None:
    owner = auth("lister")
    created = [create(api, owner, title=f"c{n}")["id"] for n in range(5)]
    listed_ids(api, owner, until=lambda ids: len(ids) == 5)  # the user index has caught up

    first = api.get("/v1/conversations", params={"limit": 3}, headers=owner).json()
    second = api.get(
        "/v1/conversations", params={"limit": 3, "cursor": first["next_cursor"]}, headers=owner
    ).json()
    forged = api.get("/v1/conversations", params={"cursor": "Zm9yZ2Vk"}, headers=owner)

    assert [c["id"] for c in first["conversations"] + second["conversations"]] == created[::-1]
    assert second["next_cursor"] is None
    assert forged.status_code == 400 and forged.json()["error"] == "invalid_cursor"


def test_an_unknown_route_is_a_json_404(api: httpx.Client, auth: TokenFactory) -> None:
    response = api.get("/v2/nothing", headers=auth("alice"))

    assert response.status_code == 404
    assert response.json() == {"error": "route_not_found", "message": "No such route."}


def test_any_uuid_is_a_listing_position(api: httpx.Client, auth: TokenFactory) -> None:
    owner = auth("positions")
    created = create(api, owner)["id"]

    far_future = api.get(
        "/v1/conversations", params={"cursor": "efb2332f-591e-2b8c-980e-c2221617e224"}, headers=owner
    )
    before_time = api.get(
        "/v1/conversations", params={"cursor": "00000000-0000-7000-8000-000000000000"}, headers=owner
    )

    assert far_future.status_code == 200 and [c["id"] for c in far_future.json()["conversations"]] == [
        created
    ]
    assert before_time.status_code == 200 and before_time.json()["conversations"] == []
