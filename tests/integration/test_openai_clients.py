"""Clients nobody here wrote, pointed at Parley's OpenAI-compatible routes through the local
gateway: LangChain's ChatOpenAI (invoke, stream, bind_tools, with_structured_output) and
OpenAIEmbeddings, and the openai npm package from Node (a streamed chat and a tool call)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import numpy
import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from pydantic import BaseModel

from local.template import ROOT
from local.token import mint
from parley.providers.minilm import MiniLMEmbedder
from tests.conftest import LocalStack

pytestmark = pytest.mark.integration


@pytest.fixture
def token() -> str:
    return mint("langchain-user", [f"lc-{uuid.uuid4().hex[:8]}"])


@pytest.fixture
def chat(local_stack: LocalStack, token: str) -> ChatOpenAI:
    return ChatOpenAI(model="parley-offline", base_url=f"{local_stack.url}/v1", api_key=token, max_retries=0)  # type: ignore[arg-type]


def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"-3C in {city}"


class Trip(BaseModel):
    """A short trip."""

    city: str
    days: int


def test_langchain_invokes_and_streams(chat: ChatOpenAI) -> None:
    answer = chat.invoke([HumanMessage("Where should I go in May?")])
    pieces = [piece.content for piece in chat.stream([HumanMessage("Where should I go in May?")])]

    assert isinstance(answer, AIMessage) and "Where should I go in May?" in str(answer.content)
    assert len([p for p in pieces if p]) > 3 and "".join(str(p) for p in pieces) == answer.content
    assert answer.usage_metadata is not None and answer.usage_metadata["total_tokens"] > 0


def test_langchain_binds_tools_and_answers_their_results(chat: ChatOpenAI) -> None:
    with_tools = chat.bind_tools([get_weather])
    question = HumanMessage("What is the weather in Oslo?")

    called = with_tools.invoke([question])
    call = called.tool_calls[0]  # type: ignore[attr-defined]
    answered = with_tools.invoke(
        [question, called, ToolMessage(get_weather(**call["args"]), tool_call_id=call["id"])]
    )

    assert call["name"] == "get_weather" and "Oslo" in call["args"]["city"]
    assert "-3C in" in str(answered.content)


def test_langchain_structured_output_is_the_pydantic_model(chat: ChatOpenAI) -> None:
    for method in ("json_schema", "function_calling"):
        trip = chat.with_structured_output(Trip, method=method).invoke("Plan 3 days in Porto")  # type: ignore[arg-type]

        assert isinstance(trip, Trip) and trip.days == 3, method


def test_langchain_embeddings_are_the_deployments(local_stack: LocalStack, token: str) -> None:
    texts = ["Parental leave lasts sixteen weeks.", "The office opens at nine."]
    embeddings = OpenAIEmbeddings(
        model="minilm-l6-v2",
        base_url=f"{local_stack.url}/v1",
        api_key=token,  # type: ignore[arg-type]
        check_embedding_ctx_length=False,  # its token counting would fetch tiktoken's files
        max_retries=0,
    )

    vectors = embeddings.embed_documents(texts)
    query = embeddings.embed_query(texts[0])

    assert numpy.allclose(vectors, MiniLMEmbedder().embed(texts), atol=1e-6)
    assert numpy.allclose(query, vectors[0], atol=1e-6)


def test_the_openai_npm_package_streams_and_calls_a_tool(local_stack: LocalStack, token: str) -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed (as for make install)"
    script = Path(__file__).parent / "clients" / "openai_node.mjs"
    env = {**os.environ, "PARLEY_BASE_URL": f"{local_stack.url}/v1", "PARLEY_TOKEN": token}

    ran = subprocess.run(
        [node, str(script)], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert "Hello from Node" in seen["streamed"] and seen["pieces"] > 3 and seen["finish"] == "stop"
    assert seen["usage"]["total_tokens"] > 0
    assert seen["toolFinish"] == "tool_calls" and seen["toolCalls"][0]["function"]["name"] == "get_weather"
    assert seen["notFound"] == {"name": "NotFoundError", "status": 404, "code": "model_not_found"}
