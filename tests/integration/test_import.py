"""POST /v1/conversations/import through the gateway: a JSON export holds the whole tree (every
branch), and the import takes it back as a new conversation of the caller's, with the same
branches, the same active branch and the same versions; budgets untouched; a malformed export is
a 400 that names what is wrong and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory

pytestmark = pytest.mark.integration

USER_SCOPES = ["conversations:read", "conversations:write", "ai:chat"]


def chat(api: httpx.Client, headers: dict[str, str], conversation_id: str, content: str) -> dict[str, Any]:
    response = api.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": content, "mode": "chat-completion"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def export(api: httpx.Client, headers: dict[str, str], conversation_id: str) -> dict[str, Any]:
    response = api.get(
        f"/v1/conversations/{conversation_id}/export", params={"format": "json"}, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def shape(document: dict[str, Any]) -> dict[str, Any]:
    """What the export says, without ids and times: each message by its content, with its
    parent's content and its place among its versions."""
    every = {m["id"]: m for m in [*document["messages"], *document["archived"]]}

    def described(message: dict[str, Any]) -> tuple[Any, ...]:
        parent = every.get(message["parent_id"]) if message.get("parent_id") else None
        branch = message["branch"]
        return (
            message["role"],
            message["content"],
            parent and parent["content"],
            branch["index"],
            branch["count"],
        )

    return {
        "title": document["conversation"]["title"],
        "active": [described(m) for m in document["messages"]],
        "archived": sorted(described(m) for m in document["archived"]),
    }


def test_an_export_of_several_branches_imports_as_the_same_tree(
    api: httpx.Client, auth: TokenFactory
) -> None:
    brand = f"imp-{uuid.uuid4().hex[:6]}"
    alice = auth("importer", brands=[brand], scopes=[*USER_SCOPES, "admin"])
    bob = auth("receiver", brands=[brand], scopes=[*USER_SCOPES, "admin"])
    source = api.post("/v1/conversations", json={"title": "Trip", "brand_id": brand}, headers=alice).json()[
        "conversation"
    ]["id"]
    first = chat(api, alice, source, "Where should I go in May?")
    chat(api, alice, source, "And in June?")
    api.post(
        f"/v1/conversations/{source}/messages/{first['assistant_message']['id']}/regenerate",
        json={},
        headers=alice,
    )
    edited = api.post(
        f"/v1/conversations/{source}/messages",
        json={
            "role": "user",
            "content": "Where should I go in April?",
            "mode": "chat-completion",
            "parent_id": None,
        },
        headers=alice,
    )
    assert edited.status_code == 200, edited.text
    exported = export(api, alice, source)
    usage_before = api.get("/v1/usage", params={"brand_id": brand}, headers=alice).json()

    imported = api.post("/v1/conversations/import", json=exported, headers=bob)

    assert imported.status_code == 201, imported.text
    made = imported.json()["conversation"]
    again = export(api, bob, made["id"])
    usage_after = api.get("/v1/usage", params={"brand_id": brand}, headers=alice).json()
    assert made["id"] != source and made["user_id"] == "receiver"
    assert len(exported["archived"]) >= 3  # the regenerated answer's branch and the edited question's
    assert shape(again) == shape(exported)
    assert (
        made["message_count"] == len(exported["messages"])
        and made["active_message_id"] == again["messages"][-1]["id"]
    )
    assert usage_after == usage_before  # nothing generated, nothing charged
    # the imported conversation is an ordinary one: it goes on
    assert chat(api, bob, made["id"], "Thanks!")["message"]["parent_id"] == again["messages"][-1]["id"]


def test_an_import_into_a_brand_the_token_does_not_grant_is_a_403(
    api: httpx.Client, auth: TokenFactory
) -> None:
    alice = auth("importer", brands=["acme"])
    source = api.post("/v1/conversations", json={"brand_id": "acme"}, headers=alice).json()["conversation"][
        "id"
    ]
    exported = export(api, alice, source)

    refused = api.post("/v1/conversations/import", json=exported, headers=auth("outsider", brands=["globex"]))

    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.update(format="other.v9"), "format"),
        (
            lambda d: d["archived"].append(
                {**d["messages"][0], "id": str(uuid.uuid4()), "parent_id": "gone"}
            ),
            "parent_id",
        ),
        (lambda d: d["archived"].append(dict(d["messages"][0])), "more than once"),
        (lambda d: d["conversation"].update(model="no-such-model"), "no-such-model"),
    ],
)
def test_a_malformed_export_is_a_400_that_writes_nothing(
    api: httpx.Client, auth: TokenFactory, change: Any, named: str
) -> None:
    alice = auth(f"importer-{uuid.uuid4().hex[:6]}")
    source = api.post("/v1/conversations", json={"title": "Trip"}, headers=alice).json()["conversation"]["id"]
    chat(api, alice, source, "Where should I go?")
    document = export(api, alice, source)
    change(document)

    refused = api.post("/v1/conversations/import", json=document, headers=alice)
    listed = api.get("/v1/conversations", headers=alice).json()["conversations"]

    assert refused.status_code == 400, refused.text
    assert named in refused.json()["message"]
    assert [c["id"] for c in listed] == [source]
