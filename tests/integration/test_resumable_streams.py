"""Streams that survive a dropped connection, through the local gateway: the client drops the
stream after its first piece while the provider still holds its last one, then sends the same
request again with `Last-Event-ID` (or the same Idempotency-Key) and gets exactly the events it
missed, from another container, with nothing generated or stored twice. A cancel stops a running
generation; another caller's stream is not theirs to read or stop."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from local.token import mint
from tests.conftest import TokenFactory
from tests.doubles.fake_providers import OPENAI_PATH, ProviderServer, Scripted

pytestmark = pytest.mark.integration

QUESTION = "tell me a long story"


@dataclass(frozen=True)
class Frame:
    id: str
    name: str
    data: Any

    @property
    def number(self) -> int:
        return int(self.id.rpartition(":")[2])

    @property
    def stream(self) -> str:
        return self.id.rpartition(":")[0]


def read_frames(lines: Iterator[str], comments: list[str] | None = None) -> Iterator[Frame]:
    """Frames with their `id:`, as they arrive; comment lines go to `comments`."""
    event_id, name, data = "", "message", []
    for line in lines:
        if line.startswith(":"):
            if comments is not None:
                comments.append(line)
        elif line.startswith("id: "):
            event_id = line.removeprefix("id: ")
        elif line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data.append(line.removeprefix("data: "))
        elif line == "" and data:
            text = "\n".join(data)
            yield Frame(event_id, name, text if text == "[DONE]" else json.loads(text))
            event_id, name, data = "", "message", []


@pytest.fixture(autouse=True)
def patient_model(providers: ProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A held model waits for the test (a cancel, a reconnect), not for the short deadline the
    provider fixture sets for its timeout cases."""
    monkeypatch.setenv("PROVIDER_TIMEOUT_SECONDS", "20")


@pytest.fixture
def alice(auth: TokenFactory) -> dict[str, str]:
    return auth("alice", brands=["acme"])


def new_conversation(api: httpx.Client, headers: dict[str, str], brand: str = "acme") -> str:
    response = api.post("/v1/conversations", json={"model": "gpt-4o", "brand_id": brand}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["conversation"]["id"])


def history(api: httpx.Client, headers: dict[str, str], conversation_id: str) -> dict[str, Any]:
    return dict(api.get(f"/v1/conversations/{conversation_id}/messages", headers=headers).json())


def ask(conversation_id: str) -> tuple[str, dict[str, Any]]:
    body = {"role": "user", "content": QUESTION, "mode": "chat-completion", "stream": True}
    return f"/v1/conversations/{conversation_id}/messages", body


def until_first(
    api: httpx.Client, url: str, body: dict[str, Any], headers: dict[str, str], name: str
) -> list[Frame]:
    """The frames up to the first `name` one; then the connection is dropped."""
    seen: list[Frame] = []
    with api.stream("POST", url, json=body, headers=headers) as response:
        assert response.status_code == 200, response.read()
        for frame in read_frames(response.iter_lines()):
            seen.append(frame)
            if frame.name == name or (name == "content" and _content(frame)):
                break
    return seen


def rest_of(
    api: httpx.Client,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    release: threading.Event | None = None,
) -> list[Frame]:
    """The frames a re-attached request gets; `release` is set once it is attached."""
    with api.stream("POST", url, json=body, headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        if release is not None:
            release.set()
        return list(read_frames(response.iter_lines()))


def _content(frame: Frame) -> str:
    if isinstance(frame.data, dict) and frame.data.get("choices"):
        return str(frame.data["choices"][0]["delta"].get("content") or "")
    return ""


def held(providers: ProviderServer) -> threading.Event:
    """The provider's last piece of its next answer, held back until the event is set."""
    hold = threading.Event()
    providers.script(OPENAI_PATH, Scripted(hold=hold))
    return hold


def wait_for(condition: Any) -> None:
    for _ in range(200):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("the condition never held")


@pytest.mark.parametrize("when", ["running", "finished"])
def test_a_dropped_conversation_stream_resumes_with_every_token_once(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer, when: str
) -> None:
    conversation_id = new_conversation(api, alice)
    hold = held(providers)
    url, body = ask(conversation_id)

    before = until_first(api, url, body, alice, "delta")
    if when == "finished":
        hold.set()
        wait_for(lambda: history(api, alice, conversation_id)["total"] == 2)
    after = rest_of(api, url, body, {**alice, "Last-Event-ID": before[-1].id}, release=hold)

    frames = before + after
    assert len({frame.stream for frame in frames}) == 1
    assert [frame.number for frame in frames] == list(range(len(frames)))  # none lost, none twice
    assert [frame.name for frame in after][-1] == "done", (before, after)
    text = "".join(frame.data["content"] for frame in frames if frame.name == "delta")
    stored = history(api, alice, conversation_id)
    assert stored["total"] == 2  # the reconnect appended nothing
    assert text == stored["messages"][1]["content"] == f"Echo: {QUESTION}"
    assert after[-1].data["assistant_message"] == stored["messages"][1]
    assert len(providers.requests_to(OPENAI_PATH)) == 1  # and generated nothing


def test_a_dropped_chat_completion_stream_resumes_in_openai_chunks(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    hold = held(providers)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": QUESTION}], "stream": True}

    before = until_first(api, "/v1/chat/completions", body, alice, "content")
    after = rest_of(api, "/v1/chat/completions", body, {**alice, "Last-Event-ID": before[-1].id}, hold)

    frames = before + after
    assert [frame.number for frame in frames] == list(range(len(frames)))
    assert after[-1].data == "[DONE]"
    assert "".join(_content(frame) for frame in frames) == f"Echo: {QUESTION}"
    finishes = [f for f in frames[:-1] if f.data["choices"] and f.data["choices"][0]["finish_reason"]]
    assert [f.data["choices"][0]["finish_reason"] for f in finishes] == ["stop"]
    assert len(providers.requests_to(OPENAI_PATH)) == 1


def test_the_same_idempotency_key_re_attaches_from_the_first_event(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    conversation_id = new_conversation(api, alice)
    hold = held(providers)
    url, body = ask(conversation_id)
    keyed = {**alice, "Idempotency-Key": f"retry-{conversation_id}"}

    before = until_first(api, url, body, keyed, "delta")
    again = rest_of(api, url, body, keyed, release=hold)

    assert [frame.id for frame in again[: len(before)]] == [frame.id for frame in before]
    assert [frame.number for frame in again] == list(range(len(again)))
    assert again[-1].name == "done"
    assert history(api, alice, conversation_id)["total"] == 2
    assert len(providers.requests_to(OPENAI_PATH)) == 1


def test_another_callers_stream_is_not_found_and_a_bad_id_is_a_400(
    api: httpx.Client, alice: dict[str, str], auth: TokenFactory, providers: ProviderServer
) -> None:
    conversation_id = new_conversation(api, alice)
    url, body = ask(conversation_id)
    stream_id = until_first(api, url, body, alice, "delta")[0].stream
    wait_for(lambda: history(api, alice, conversation_id)["total"] == 2)
    mallory = auth("mallory", brands=["acme"])

    stolen = api.post(url, json=body, headers={**mallory, "Last-Event-ID": f"{stream_id}:0"})
    assert (stolen.status_code, stolen.json()["error"]) == (404, "stream_not_found")
    openai = api.post(
        "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True},
        headers={**alice, "Last-Event-ID": f"{stream_id}:0"},  # alice's, but another route's
    )
    assert openai.status_code == 404 and openai.json()["error"]["code"] == "stream_not_found"
    bad = api.post(url, json=body, headers={**alice, "Last-Event-ID": "not an id"})
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_last_event_id")
    cancel = api.post(f"/v1/streams/{stream_id}/cancel", headers=mallory)
    assert (cancel.status_code, cancel.json()["error"]) == (404, "stream_not_found")
    assert history(api, alice, conversation_id)["total"] == 2


def test_a_cancel_stops_a_running_generation_stores_nothing_and_charges_what_it_spent(
    api: httpx.Client, auth: TokenFactory, providers: ProviderServer
) -> None:
    brand = f"cancel-{uuid.uuid4().hex[:8]}"
    alice = auth("alice", brands=[brand])
    conversation_id = new_conversation(api, alice, brand)
    hold = held(providers)
    url, body = ask(conversation_id)
    before = until_first(api, url, body, alice, "delta")
    stream_id = before[0].stream

    cancelled = api.post(f"/v1/streams/{stream_id}/cancel", headers=alice)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == {"id": stream_id, "status": "cancelling"}
    try:  # the provider still holds its last piece: the stream ends without it
        after = rest_of(api, url, body, {**alice, "Last-Event-ID": before[-1].id})
    finally:
        hold.set()

    assert after[-1].name == "error" and after[-1].data["error"] == "generation_cancelled"
    assert "done" not in [frame.name for frame in after]
    assert history(api, alice, conversation_id)["total"] == 0
    finished = api.post(f"/v1/streams/{stream_id}/cancel", headers=alice)
    assert finished.json() == {"id": stream_id, "status": "finished"}
    admin = auth("ops", brands=[brand], scopes=["admin"])

    def charged() -> list[Any]:
        return list(api.get("/v1/usage", params={"brand_id": brand}, headers=admin).json()["days"])

    wait_for(charged)  # the generation stops at the model's next piece, and charges what it spent
    [day] = charged()
    [model] = day["models"]
    assert model["model"].startswith("gpt-4o") and model["completion_tokens"] > 0


def test_an_idle_stream_gets_heartbeat_comments(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAM_HEARTBEAT_SECONDS", "1")
    conversation_id = new_conversation(api, alice)
    hold = held(providers)
    url, body = ask(conversation_id)
    comments: list[str] = []
    frames: list[Frame] = []
    try:
        with api.stream("POST", url, json=body, headers=alice) as response:
            for frame in read_frames(_releasing(response.iter_lines(), hold), comments):
                frames.append(frame)
    finally:
        hold.set()

    assert ": keep-alive" in comments
    assert frames[-1].name == "done"
    assert history(api, alice, conversation_id)["total"] == 2


def _releasing(lines: Iterator[str], hold: threading.Event) -> Iterator[str]:
    """The lines; the provider's last piece is released once a heartbeat came while it waited."""
    for line in lines:
        if line.startswith(": keep-alive"):
            hold.set()
        yield line


def test_a_dropped_responses_stream_resumes_with_the_openai_sdk_from_starting_after(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    token = alice["Authorization"].removeprefix("Bearer ")
    client = openai.OpenAI(base_url=f"{str(api.base_url).rstrip('/')}/v1", api_key=token, max_retries=0)
    hold = held(providers)

    before: list[Any] = []
    with client.responses.create(model="gpt-4o", input=QUESTION, stream=True) as stream:
        for event in stream:
            before.append(event)
            if event.type == "response.output_text.delta":
                break  # the connection drops
    response_id = before[0].response.id
    threading.Timer(0, hold.set).start()
    after = list(
        client.responses.retrieve(response_id, stream=True, starting_after=before[-1].sequence_number)
    )

    events = before + after
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[-1].type == "response.completed"
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    stored = client.responses.retrieve(response_id)
    assert text == stored.output_text == f"Echo: {QUESTION}"
    assert len(providers.requests_to(OPENAI_PATH)) == 1
    other = openai.OpenAI(base_url=client.base_url, api_key=mint("mallory", brands=["acme"]), max_retries=0)
    with pytest.raises(openai.NotFoundError):
        list(other.responses.retrieve(response_id, stream=True, starting_after=0))


def sdk_client(api: httpx.Client, headers: dict[str, str]) -> openai.OpenAI:
    token = headers["Authorization"].removeprefix("Bearer ")
    return openai.OpenAI(base_url=f"{str(api.base_url).rstrip('/')}/v1", api_key=token, max_retries=0)


def queued_on_hold(client: openai.OpenAI, providers: ProviderServer) -> tuple[Any, threading.Event]:
    """A background response whose model holds its last piece until the event is set."""
    hold = held(providers)
    return client.responses.create(model="gpt-4o", input=QUESTION, background=True), hold


def test_a_background_response_answers_at_once_and_its_stream_resumes_after_a_drop(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    client = sdk_client(api, alice)

    queued, hold = queued_on_hold(client, providers)
    assert (queued.status, queued.background) == ("queued", True)  # answered before the model spoke
    before: list[Any] = []
    stream = client.responses.retrieve(queued.id, stream=True)
    for event in stream:
        before.append(event)
        if event.type == "response.output_text.delta":
            break
    stream.close()  # the connection drops mid-stream
    threading.Timer(0, hold.set).start()
    after = list(client.responses.retrieve(queued.id, stream=True, starting_after=before[-1].sequence_number))

    events = before + after
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    stored = client.responses.retrieve(queued.id)
    assert stored.status == "completed" and text == stored.output_text == f"Echo: {QUESTION}"
    assert len(providers.requests_to(OPENAI_PATH)) == 1
    follow_up = client.responses.create(model="gpt-4o", input="and then?", previous_response_id=queued.id)
    assert follow_up.output_text == "Echo: and then?"


def test_a_cancelled_background_response_stops_and_stores_no_answer(
    api: httpx.Client, alice: dict[str, str], providers: ProviderServer
) -> None:
    client = sdk_client(api, alice)
    queued, hold = queued_on_hold(client, providers)
    events: list[Any] = []
    try:
        stream = client.responses.retrieve(queued.id, stream=True)
        for event in stream:
            events.append(event)
            if event.type == "response.output_text.delta" and "cancel asked" not in events:
                assert client.responses.retrieve(queued.id).status == "in_progress"
                assert client.responses.cancel(queued.id).status == "cancelled"
                events.append("cancel asked")
    finally:
        hold.set()

    assert "cancel asked" in events
    assert events[-1].type == "response.failed"  # the worker's stream ends at the cancel
    assert client.responses.retrieve(queued.id).status == "cancelled"
    again = client.responses.cancel(queued.id)
    assert again.status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model="gpt-4o", input="more", previous_response_id=queued.id)


def test_background_is_checked_before_it_is_queued(api: httpx.Client, alice: dict[str, str]) -> None:
    client = sdk_client(api, alice)
    with pytest.raises(openai.BadRequestError) as streamed:
        client.responses.create(model="parley-offline", input="hi", background=True, stream=True)
    assert streamed.value.code == "unsupported_parameter"
    with pytest.raises(openai.BadRequestError) as unknown:
        client.responses.create(model="no-such-model", input="hi", background=True)
    assert unknown.value.code == "model_not_found"  # OpenAI's code for it
    completed = client.responses.create(model="parley-offline", input="hi")
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(completed.id)  # only a background response is cancelled so


def test_a_finished_response_without_a_log_streams_again_from_what_was_stored(
    api: httpx.Client, alice: dict[str, str]
) -> None:
    """A response answered whole has no stream log (nor has one whose log expired): its events
    are made again from the stored response, numbered from 0, and `starting_after` still cuts."""
    client = sdk_client(api, alice)
    answered = client.responses.create(model="parley-offline", input="Tell me about Porto")

    events = list(client.responses.retrieve(answered.id, stream=True))
    tail = list(client.responses.retrieve(answered.id, stream=True, starting_after=2))

    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text == answered.output_text and events[-1].response.output_text == answered.output_text
    assert [event.sequence_number for event in tail] == list(range(3, len(events)))
    mallory = sdk_client(api, {"Authorization": f"Bearer {mint('mallory', brands=['acme'])}"})
    with pytest.raises(openai.NotFoundError):
        list(mallory.responses.retrieve(answered.id, stream=True))
