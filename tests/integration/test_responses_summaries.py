"""A long chain of responses keeps going as a conversation does: what no longer fits the model's
window is folded into the branch's running summary, which the next prompt carries, instead of the
chain ending in a 400 `context_too_long`."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import TokenFactory
from tests.doubles.fake_providers import OPENAI_PATH, ProviderServer

pytestmark = pytest.mark.integration


def test_a_chain_past_the_window_is_summarised_not_refused(
    api: httpx.Client, auth: TokenFactory, providers: ProviderServer
) -> None:
    headers = auth("alice", brands=["acme"])
    token = headers["Authorization"].removeprefix("Bearer ")
    client = openai.OpenAI(base_url=f"{str(api.base_url).rstrip('/')}/v1", api_key=token, max_retries=0)
    previous = None
    for n in range(3):  # each turn ~3,400 tokens, echoed: the third prompt would not fit 16k
        response = client.responses.create(
            model="gpt-3.5-turbo", input=f"{n} " + "word " * 2000, previous_response_id=previous
        )
        previous = response.id

    assert response.status == "completed"
    summarised, answered = (r.body for r in providers.requests_to(OPENAI_PATH)[-2:])
    assert "0 word" in summarised["messages"][-1]["content"]  # the oldest turns, folded
    conversation = api.get(f"/v1/conversations/{response.conversation_id}", headers=headers).json()
    summary = conversation["conversation"]["summary"]
    assert summary["content"].startswith("Echo: ")
    system = [m["content"] for m in answered["messages"] if m["role"] == "system"]
    assert any(summary["content"] in text for text in system)
    assert answered["messages"][-1]["content"].startswith("2 word")
    assert not any(m["content"].startswith("0 word") for m in answered["messages"] if m["role"] == "user")
