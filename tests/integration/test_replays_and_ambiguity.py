"""Authorization holds on every path, replays included: an Idempotency-Key replay is only ever
served to the grants that made the first request; ids are normalised before keying; ambiguous
credentials are refused; a workflow without a brand belongs to its creator alone."""

from __future__ import annotations

import uuid

import httpx
import pytest

from local.token import mint
from tests.conftest import TokenFactory
from tests.integration.index_reads import listed_ids

pytestmark = pytest.mark.integration


def with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def rag_question(user: str, brand: str) -> dict[str, object]:
    return {
        "messages": [{"role": "user", "content": "What is the refund window?"}],
        "brand_id": brand,
        "user_id": user,
        "rag_scope": "replay-docs",
    }


def test_a_replay_with_a_token_that_lost_the_brand_is_refused_not_replayed(
    api: httpx.Client, auth: TokenFactory
) -> None:
    user = f"replayer-{uuid.uuid4().hex[:8]}"
    granted = auth(user, brands=["acme"])
    api.post(
        "/v1/ai/documents",
        json={"brand_id": "acme", "rag_scope": "replay-docs", "content": "Refunds take 14 days at Acme."},
        headers=granted,
    )
    first = api.post("/v1/ai/chat", json=rag_question(user, "acme"), headers=with_key(granted, "rag-1"))
    assert first.status_code == 200 and first.json()["rag_context"], first.text

    without_brand = auth(user, brands=["globex"])
    without_scope = auth(user, brands=["acme"], scopes=["conversations:read"])
    replays = [
        api.post("/v1/ai/chat", json=rag_question(user, "acme"), headers=with_key(token, "rag-1"))
        for token in (without_brand, without_scope)
    ]

    assert [r.status_code for r in replays] == [403, 403]
    assert [r.json()["error"] for r in replays] == ["forbidden", "insufficient_scope"]
    assert all("Acme" not in r.text for r in replays)
    again = api.post("/v1/ai/chat", json=rag_question(user, "acme"), headers=with_key(granted, "rag-1"))
    assert again.json() == first.json()  # the same grants still get the remembered answer


def test_a_read_only_token_cannot_replay_a_create(api: httpx.Client, auth: TokenFactory) -> None:
    user = f"creator-{uuid.uuid4().hex[:8]}"
    writer, reader = auth(user), auth(user, scopes=["conversations:read"])
    created = api.post("/v1/conversations", json={"title": "t"}, headers=with_key(writer, "create"))
    assert created.status_code == 201

    replay = api.post("/v1/conversations", json={"title": "t"}, headers=with_key(reader, "create"))

    assert replay.status_code == 403 and replay.json()["error"] == "insufficient_scope"
    assert listed_ids(api, reader, until=bool) == [created.json()["conversation"]["id"]]


def test_an_upper_cased_id_is_the_same_request_for_its_key(api: httpx.Client, auth: TokenFactory) -> None:
    alice = auth(f"case-{uuid.uuid4().hex[:8]}")
    conversation_id = api.post("/v1/conversations", json={}, headers=alice).json()["conversation"]["id"]
    body = {"role": "user", "content": "once"}

    lower = api.post(
        f"/v1/conversations/{conversation_id}/messages", json=body, headers=with_key(alice, "append")
    )
    upper = api.post(
        f"/v1/conversations/{conversation_id.upper()}/messages", json=body, headers=with_key(alice, "append")
    )

    assert lower.status_code == upper.status_code == 200
    assert upper.json() == lower.json()
    history = api.get(f"/v1/conversations/{conversation_id}/messages", headers=alice).json()
    assert history["total"] == 1


def test_a_percent_encoded_path_id_is_decoded_as_api_gateway_does(
    api: httpx.Client, auth: TokenFactory
) -> None:
    admin = auth("encoder", brands=["acme"])
    stored = api.post(
        "/v1/ai/documents",
        json={"brand_id": "acme", "rag_scope": "encoded", "document_id": "doc:0", "content": "Some text."},
        headers=admin,
    )
    assert stored.status_code == 201, stored.text

    params = {"brand_id": "acme", "rag_scope": "encoded"}

    deleted = api.delete("/v1/ai/documents/doc%3A0", params=params, headers=admin)
    again = api.delete("/v1/ai/documents/doc:0", params=params, headers=admin)

    assert deleted.status_code == 204, deleted.text
    assert again.status_code == 404  # the encoded id named the stored document


@pytest.mark.parametrize(
    "cookie",
    ["session={a}; session={b}", "session={a}; theme=dark; session={a}"],
    ids=["two different", "the same twice"],
)
def test_two_session_cookies_are_a_401(api: httpx.Client, cookie: str) -> None:
    a, b = mint("cookie-alice", ["acme"]), mint("cookie-bob", ["acme"])

    response = api.get("/v1/conversations", headers={"Cookie": cookie.format(a=a, b=b)})

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_a_workflow_without_a_brand_belongs_to_its_creator_alone(
    api: httpx.Client, auth: TokenFactory
) -> None:
    creator = auth("wf-creator", brands=["acme"], scopes=["admin", "ai:chat", "conversations:write"])
    other_admin = auth("wf-other", brands=["globex"], scopes=["admin", "ai:chat", "conversations:write"])
    workflow = api.post(
        "/api/workflows", json={"name": "Mine", "steps": [{"prompt": "{{input}}"}]}, headers=creator
    ).json()["data"]["id"]

    mine = api.get(f"/api/workflows/{workflow}", headers=creator)
    theirs = api.get(f"/api/workflows/{workflow}", headers=other_admin)
    chat = api.post("/api/chats", json={}, headers=other_admin).json()["data"]["id"]
    run = api.post(
        f"/api/chats/{chat}/messages",
        json={"content": "Hi", "modelId": "parley-offline", "userId": "wf-other", "workflowId": workflow},
        headers=other_admin,
    )

    assert mine.status_code == 200
    assert theirs.status_code == 404 and run.status_code == 404
    assert run.json()["error"] == "workflow_not_found"
    history = api.get(f"/v1/conversations/{chat}/messages", headers=auth("wf-other", brands=["globex"]))
    assert history.json()["total"] == 0
