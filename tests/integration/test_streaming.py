"""Streamed answers through the local gateway, with the real OpenAI and Anthropic SDKs against the
provider server's streaming wire formats: each generating route sends its deltas as the provider
writes them (the test holds the provider's last piece back and reads a delta first), `done`
carries exactly the non-streamed body, and a failure mid-stream stores nothing."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.doubles.fake_providers import ANTHROPIC_PATH, OPENAI_PATH, ProviderServer, Scripted

pytestmark = pytest.mark.integration

Event = tuple[str, Any]


@pytest.fixture
def alice(auth: TokenFactory) -> dict[str, str]:
    return auth("alice", brands=["acme"])


def read_events(lines: Any) -> Any:
    """(event, data) pairs from server-sent event lines, as they arrive."""
    name, data = "message", []
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data.append(line.removeprefix("data: "))
        elif line == "" and data:
            yield name, json.loads("\n".join(data))
            name, data = "message", []


def conversation(api: httpx.Client, headers: dict[str, str], model: str) -> str:
    response = api.post("/v1/conversations", json={"model": model, "brand_id": "acme"}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["conversation"]["id"])


def history(api: httpx.Client, headers: dict[str, str], conversation_id: str) -> dict[str, Any]:
    return dict(api.get(f"/v1/conversations/{conversation_id}/messages", headers=headers).json())


def ask_streamed(api: httpx.Client, headers: dict[str, str], conversation_id: str) -> tuple[int, list[Event]]:
    """A chat-completion of four words, streamed: the status and every event."""
    with api.stream(
        "POST",
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": "one two three four", "mode": "chat-completion", "stream": True},
        headers=headers,
    ) as response:
        return response.status_code, list(read_events(response.iter_lines()))


def stream_held(
    api: httpx.Client,
    providers: ProviderServer,
    path: str,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
) -> tuple[list[Event], list[Event]]:
    """Send a streamed request while the provider holds its last piece back: the events read
    before the hold was released, and all of them."""
    hold = threading.Event()
    providers.script(path, Scripted(hold=hold))
    seen_before: list[Event] = []
    every: list[Event] = []
    try:
        with api.stream("POST", url, json={**body, "stream": True}, headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            for event in read_events(response.iter_lines()):
                every.append(event)
                if not hold.is_set():
                    seen_before.append(event)
                if event[0] == "delta":
                    hold.set()  # a first piece arrived while the provider still held its last one
    finally:
        hold.set()
    return seen_before, every


@pytest.mark.parametrize(("model", "path"), [("gpt-4o", OPENAI_PATH), ("claude-sonnet-4-6", ANTHROPIC_PATH)])
def test_a_chat_completion_streams_then_done_is_exactly_the_stored_exchange(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer, model: str, path: str
) -> None:
    conversation_id = conversation(api, alice, model)

    before, events = stream_held(
        api,
        providers,
        path,
        f"/v1/conversations/{conversation_id}/messages",
        {"role": "user", "content": "tell me a long story", "mode": "chat-completion"},
        alice,
    )

    assert [name for name, _ in before] == ["delta"]  # streamed before the provider finished
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"delta"} and len(names) > 3
    done = events[-1][1]
    assert (
        "".join(data["content"] for name, data in events if name == "delta")
        == done["assistant_message"]["content"]
    )
    stored = history(api, alice, conversation_id)
    assert stored["total"] == 2
    assert stored["messages"] == [done["message"], done["assistant_message"]]
    assert providers.requests_to(path)[-1].body["stream"] is True


@pytest.mark.parametrize(("model", "path"), [("gpt-4o", OPENAI_PATH), ("claude-sonnet-4-6", ANTHROPIC_PATH)])
def test_usage_and_cost_of_a_stream_are_those_of_the_whole_request(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer, model: str, path: str
) -> None:
    streamed_id, whole_id = conversation(api, alice, model), conversation(api, alice, model)
    ask = {"role": "user", "content": "the same question", "mode": "chat-completion"}

    _, events = stream_held(api, providers, path, f"/v1/conversations/{streamed_id}/messages", ask, alice)
    whole = api.post(f"/v1/conversations/{whole_id}/messages", json=ask, headers=alice).json()

    streamed = events[-1][1]["assistant_message"]
    assert streamed["token_usage"] == whole["assistant_message"]["token_usage"]
    assert streamed["token_usage"]["prompt_tokens"] > 0 and streamed["token_usage"]["completion_tokens"] > 0
    for key in ("model", "finish_reason", "cost_usd", "provider"):
        assert streamed["metadata"][key] == whole["assistant_message"]["metadata"][key]
    if path == OPENAI_PATH:
        assert providers.requests_to(path)[0].body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(("model", "path"), [("gpt-4o", OPENAI_PATH), ("claude-sonnet-4-6", ANTHROPIC_PATH)])
def test_a_failure_mid_stream_ends_with_an_error_event_and_stores_nothing(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer, model: str, path: str
) -> None:
    conversation_id = conversation(api, alice, model)
    providers.script(path, Scripted(fail_after=2))

    status, events = ask_streamed(api, alice, conversation_id)

    assert status == 200
    assert [name for name, _ in events] == ["delta", "delta", "error"]
    assert events[-1][1]["error"] == "provider_error" and events[-1][1]["message"]
    assert history(api, alice, conversation_id)["total"] == 0


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
@pytest.mark.parametrize(("model", "path"), [("gpt-4o", OPENAI_PATH), ("claude-sonnet-4-6", ANTHROPIC_PATH)])
def test_a_stream_cut_short_in_transit_is_a_provider_error_and_stores_nothing(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer, model: str, path: str, reset: bool
) -> None:
    """A provider stream that ends without its terminal event (finish_reason; message_stop),
    closed or reset, is not an answer: every provider maps it to `provider_error`."""
    conversation_id = conversation(api, alice, model)
    providers.script(path, Scripted(cut_after=4, reset=reset))

    status, events = ask_streamed(api, alice, conversation_id)

    assert status == 200  # the stream had begun: the failure is its last event
    assert [name for name, _ in events][-1] == "error"
    assert "done" not in [name for name, _ in events]
    assert events[-1][1]["error"] == "provider_error"
    assert history(api, alice, conversation_id)["total"] == 0


@pytest.mark.parametrize(("model", "path"), [("gpt-4o", OPENAI_PATH), ("claude-sonnet-4-6", ANTHROPIC_PATH)])
def test_the_openai_route_never_finishes_a_stream_the_provider_cut(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer, model: str, path: str
) -> None:
    providers.script(path, Scripted(cut_after=4))

    with api.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": model,
            "messages": [{"role": "user", "content": "one two three four"}],
            "stream": True,
        },
        headers=alice,
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]

    frames = [json.loads(line.removeprefix("data: ")) for line in lines if line != "data: [DONE]"]
    assert frames and "error" in frames[-1]
    assert (
        frames[-1]["error"]["type"] == "provider_error" or frames[-1]["error"].get("code") == "provider_error"
    )
    assert not any(f.get("choices") and f["choices"][0].get("finish_reason") for f in frames)


def test_a_provider_refusing_at_once_is_an_ordinary_json_error(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = conversation(api, alice, "gpt-4o")
    providers.script(
        OPENAI_PATH,
        *[Scripted(status=400, body={"error": {"message": "bad", "type": "invalid_request_error"}})],
    )

    response = api.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": "user", "content": "hi", "mode": "chat-completion"},
        headers={**alice, "Accept": "text/event-stream"},
    )

    assert response.status_code >= 400 and response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == {"error", "message"}
    assert history(api, alice, conversation_id)["total"] == 0


def test_a_stream_asked_for_another_brand_is_a_403_before_any_event(
    api: httpx.Client, alice: dict[str, str]
) -> None:
    response = api.post(
        "/v1/ai/chat",
        json={
            "brand_id": "globex",
            "user_id": "alice",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
        },
        headers=alice,
    )

    assert response.status_code == 403 and response.json()["error"] == "forbidden"


def test_the_rag_chat_sends_its_context_first_and_done_is_its_whole_body(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    ingest = api.post(
        "/v1/ai/documents",
        headers=alice,
        json={
            "brand_id": "acme",
            "rag_scope": "streaming",
            "document_id": "refunds",
            "content": "Refunds are paid within 14 days of the return.",
        },
    )
    assert ingest.status_code == 201

    before, events = stream_held(
        api,
        providers,
        OPENAI_PATH,
        "/v1/ai/chat",
        {
            "brand_id": "acme",
            "user_id": "alice",
            "rag_scope": "streaming",
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "How long do refunds take?"}],
        },
        alice,
    )

    assert [name for name, _ in before] == ["context", "delta"]
    assert [name for name, _ in events][-1] == "done"
    done = events[-1][1]
    assert (
        events[0][1] == {"rag_context": done["rag_context"]} and done["rag_context"][0]["id"] == "refunds:0"
    )
    assert "".join(d["content"] for n, d in events if n == "delta") == done["content"]
    assert set(done) >= {"content", "model", "usage", "rag_context", "citations", "finish_reason"}


def test_a_chat_message_streams_and_done_is_the_201_body(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    chat = api.post("/api/chats", json={"title": "streamed", "modelId": "gpt-4o"}, headers=alice)
    chat_id = chat.json()["data"]["id"]

    before, events = stream_held(
        api,
        providers,
        OPENAI_PATH,
        f"/api/chats/{chat_id}/messages",
        {"content": "stream this please", "modelId": "gpt-4o", "userId": "alice"},
        alice,
    )

    assert [name for name, _ in before] == ["delta"]
    done = events[-1][1]
    assert events[-1][0] == "done" and done["data"]["response"]["role"] == "assistant"
    listed = api.get(f"/api/chats/{chat_id}/messages", headers=alice).json()["data"]
    assert [m["id"] for m in listed] == [done["data"]["id"], done["data"]["response"]["id"]]


def test_a_workflow_streams_only_its_last_step(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    workflow = api.post(
        "/api/workflows",
        json={
            "name": "Two steps",
            "brandId": "acme",
            "steps": [
                {"prompt": "Summarise: {{input}}", "modelId": "gpt-4o"},
                {"prompt": "Shorten: {{previous}}"},
            ],
        },
        headers=alice,
    )
    assert workflow.status_code == 201, workflow.text
    chat_id = api.post("/api/chats", json={"modelId": "claude-sonnet-4-6"}, headers=alice).json()["data"][
        "id"
    ]

    with api.stream(
        "POST",
        f"/api/chats/{chat_id}/messages",
        json={
            "content": "a long text",
            "modelId": "claude-sonnet-4-6",
            "userId": "alice",
            "workflowId": workflow.json()["data"]["id"],
            "stream": True,
        },
        headers=alice,
    ) as response:
        events = list(read_events(response.iter_lines()))

    assert [r.body.get("stream") for r in providers.received] == [None, True]
    deltas = "".join(d["content"] for n, d in events if n == "delta")
    assert deltas == events[-1][1]["data"]["response"]["content"]
    assert deltas.startswith("Echo: Shorten:")


def test_append_mode_answers_whole_json_and_a_replayed_key_replays_the_stream(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = conversation(api, alice, "gpt-4o")
    url = f"/v1/conversations/{conversation_id}/messages"
    streamed = {"role": "user", "content": "hi", "mode": "chat-completion", "stream": True}
    keyed = {**alice, "Idempotency-Key": "stream-replay-1"}

    appended = api.post(url, json={"role": "user", "content": "note", "stream": True}, headers=alice)
    with api.stream("POST", url, json=streamed, headers=keyed) as first:
        events = list(read_events(first.iter_lines()))
    with api.stream("POST", url, json=streamed, headers=keyed) as replay:
        replayed = list(read_events(replay.iter_lines()))

    assert appended.status_code == 200 and appended.headers["content-type"].startswith("application/json")
    assert events[-1][0] == "done"
    assert replay.headers["content-type"].startswith("text/event-stream")
    assert replayed == events  # re-attached to the stream the key first ran: its log replayed
    assert len(providers.requests_to(OPENAI_PATH)) == 1 and history(api, alice, conversation_id)["total"] == 3
