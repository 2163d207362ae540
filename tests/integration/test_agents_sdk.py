"""The OpenAI Agents SDK (`openai-agents`) running an agent with a function tool against Parley's
Responses API: the agent's model is Parley's offline model, reached with the SDK's own OpenAI
client at the local gateway. The model calls the tool, the SDK runs it and sends its output back
(`previous_response_id` or the whole history), and the run ends with Parley's answer from it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from agents import Agent, OpenAIResponsesModel, RunConfig, Runner, function_tool
from openai import AsyncOpenAI

from tests.conftest import TokenFactory

pytestmark = pytest.mark.integration

calls: list[str] = []


@function_tool
def get_weather(city: str) -> str:
    """The weather forecast in a city."""
    calls.append(city)
    return f"sunny in {city}, 24C"


def test_an_agent_calls_its_function_tool_and_answers_from_it(api: httpx.Client, auth: TokenFactory) -> None:
    token = auth("agent", brands=["acme"])["Authorization"].removeprefix("Bearer ")
    client = AsyncOpenAI(base_url=f"{str(api.base_url).rstrip('/')}/v1", api_key=token, max_retries=0)
    agent = Agent(
        name="Forecaster",
        instructions="Answer questions about the weather with the tool.",
        model=OpenAIResponsesModel(model="parley-offline", openai_client=client),
        tools=[get_weather],
    )
    calls.clear()

    result = asyncio.run(
        Runner.run(
            agent, "What is the weather forecast in Lisbon?", run_config=RunConfig(tracing_disabled=True)
        )
    )

    assert len(calls) == 1
    assert "sunny in" in str(result.final_output) and "24C" in str(result.final_output)
