"""GET /v1/conversations/{id}/export through the gateway: the whole conversation in order, with
roles, times, models and ratings, as Markdown or as JSON that holds what the history holds; the
same 404 as the rest of the API for someone else's conversation."""

from __future__ import annotations

import httpx
import pytest

from parley.logic.export import JSON_FORMAT, PAGE
from tests.conftest import TokenFactory

pytestmark = pytest.mark.integration


def conversation_with_messages(api: httpx.Client, headers: dict[str, str], appended: int) -> str:
    conversation_id = str(
        api.post("/v1/conversations", json={"title": "Trip"}, headers=headers).json()["conversation"]["id"]
    )
    for n in range(appended):
        api.post(
            f"/v1/conversations/{conversation_id}/messages",
            json={"role": "user", "content": f"note {n}"},
            headers=headers,
        )
    return conversation_id


def test_the_export_holds_every_message_in_order_with_its_rating(
    api: httpx.Client, auth: TokenFactory
) -> None:
    alice = auth("exporter")
    conversation_id = conversation_with_messages(api, alice, PAGE + 3)  # more than one history page
    reply = api.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": "Where should I go?", "mode": "chat-completion"},
        headers=alice,
    ).json()["assistant_message"]
    api.put(
        f"/v1/conversations/{conversation_id}/messages/{reply['id']}/feedback",
        json={"rating": "up", "comment": "helpful"},
        headers=alice,
    )

    exported = api.get(
        f"/v1/conversations/{conversation_id}/export", params={"format": "json"}, headers=alice
    )
    markdown = api.get(
        f"/v1/conversations/{conversation_id}/export", params={"format": "markdown"}, headers=alice
    )

    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/json")
    document = exported.json()
    messages = document["messages"]
    assert document["format"] == JSON_FORMAT and document["conversation"]["title"] == "Trip"
    assert [m["content"] for m in messages[: PAGE + 3]] == [f"note {n}" for n in range(PAGE + 3)]
    assert len(messages) == PAGE + 5 and messages[-1]["id"] == reply["id"]
    assert (
        messages[-1]["feedback"]["rating"] == "up" and messages[-1]["metadata"]["model"] == "parley-offline"
    )
    assert markdown.status_code == 200 and markdown.headers["content-type"].startswith("text/markdown")
    assert (
        markdown.headers["content-disposition"] == f'attachment; filename="conversation-{conversation_id}.md"'
    )
    text = markdown.text
    assert text.startswith("# Trip\n")
    assert text.index("note 0") < text.index("note 202") < text.index("Where should I go?")
    assert f"## assistant (parley-offline) · {reply['created_at']}" in text
    assert "> Rated up: helpful" in text


def test_someone_elses_conversation_is_a_404_and_a_bad_format_a_400(
    api: httpx.Client, auth: TokenFactory
) -> None:
    conversation_id = conversation_with_messages(api, auth("owner"), 1)

    stranger = api.get(f"/v1/conversations/{conversation_id}/export", headers=auth("stranger"))
    unknown = api.get(
        f"/v1/conversations/{conversation_id}/export", params={"format": "pdf"}, headers=auth("owner")
    )

    assert stranger.status_code == 404 and stranger.json()["error"] == "conversation_not_found"
    assert unknown.status_code == 400 and "format" in unknown.json()["message"]


@pytest.mark.parametrize(
    "citations", ["a string", ["a string", 3, None], {"title": "not a list"}, [{"title": "Kept", "page": 2}]]
)
def test_markdown_export_reads_whatever_a_client_put_in_citations(
    api: httpx.Client, auth: TokenFactory, citations: object
) -> None:
    alice = auth("cited-exporter")
    conversation_id = conversation_with_messages(api, alice, 0)
    appended = api.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "assistant", "content": "An answer", "metadata": {"citations": citations}},
        headers=alice,
    )

    markdown = api.get(
        f"/v1/conversations/{conversation_id}/export", params={"format": "markdown"}, headers=alice
    )

    assert appended.status_code == 200
    assert markdown.status_code == 200 and "An answer" in markdown.text
    assert ("[1] Kept, p. 2" in markdown.text) is (citations == [{"title": "Kept", "page": 2}])
