"""Parley as an MCP server, through the local gateway with the `mcp` SDK's own Client over
Streamable HTTP: it connects (the SDK probes the 2026-07-28 revision, then may fall back), lists
Parley's two tools, searches a brand's documents and asks an assistant, on the caller's token;
another brand is a tool error, not a leak (docs/mcp.md)."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
import pytest

from tests.conftest import TokenFactory

pytestmark = pytest.mark.integration

HANDBOOK = "Parental leave lasts sixteen weeks, fully paid. Receipts are needed above twenty-five euros."


def with_client(url: str, token: str, work: Any, mode: str = "auto") -> Any:
    """`work(client)` run on an MCP client session connected to Parley's /mcp: `auto` probes the
    2026-07-28 revision, `legacy` makes the 2025-11-25 handshake."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def session() -> Any:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
            Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode) as client,
        ):
            return await work(client)

    return anyio.run(session)


@pytest.fixture
def brand(api: httpx.Client, auth: TokenFactory) -> str:
    name = f"mcp-{uuid.uuid4().hex[:8]}"
    admin = auth("ops", brands=[name], scopes=["admin", "ai:ingest"])
    ingested = api.post(
        "/v1/ai/documents",
        json={
            "brand_id": name,
            "rag_scope": "hr",
            "document_id": "handbook",
            "title": "Handbook",
            "content": HANDBOOK,
        },
        headers=admin,
    )
    assert ingested.status_code in (200, 201), ingested.text
    return name


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_an_mcp_client_lists_parleys_tools_and_searches_a_brands_documents(
    local_stack: Any, auth: TokenFactory, brand: str, mode: str
) -> None:
    token = auth("reader", brands=[brand])["Authorization"].removeprefix("Bearer ")

    async def work(client: Any) -> tuple[Any, Any, Any]:
        listed = await client.list_tools()
        found = await client.call_tool(
            "search_documents", {"brand_id": brand, "rag_scope": "hr", "query": "How long is parental leave?"}
        )
        return listed, found, client.session.discover_result

    listed, found, discovered = with_client(local_stack.url, token, work, mode)

    assert (discovered is not None) == (mode == "auto")  # the revision the client asked for, spoken
    assert {tool.name for tool in listed.tools} == {"search_documents", "ask_assistant"}
    assert found.is_error is False
    [chunk, *_] = found.structured_content["chunks"]
    assert chunk["document_id"] == "handbook" and "sixteen weeks" in chunk["content"] and chunk["score"] > 0


def test_an_assistant_answers_with_its_citations(
    local_stack: Any, api: httpx.Client, auth: TokenFactory, brand: str
) -> None:
    admin = auth("ops", brands=[brand], scopes=["admin"])
    made = api.post(
        "/v1/ai/assistants",
        json={"brand_id": brand, "name": "HR", "rag_scope": "hr", "threshold": 0},
        headers=admin,
    )
    assistant_id = made.json()["assistant"]["assistant_id"]
    token = auth("reader", brands=[brand])["Authorization"].removeprefix("Bearer ")

    async def work(client: Any) -> Any:
        return await client.call_tool(
            "ask_assistant", {"assistant_id": assistant_id, "question": "How long is parental leave?"}
        )

    answered = with_client(local_stack.url, token, work)

    assert answered.is_error is False
    assert answered.structured_content["answer"]
    assert [c["document_id"] for c in answered.structured_content["citations"]] == ["handbook"]


def test_another_brand_is_a_tool_error_and_reveals_nothing(
    local_stack: Any, auth: TokenFactory, brand: str
) -> None:
    token = auth("stranger", brands=["elsewhere"])["Authorization"].removeprefix("Bearer ")

    async def work(client: Any) -> Any:
        return await client.call_tool(
            "search_documents", {"brand_id": brand, "rag_scope": "hr", "query": "leave"}
        )

    refused = with_client(local_stack.url, token, work)

    assert refused.is_error is True
    assert "sixteen" not in refused.content[0].text and "forbidden" in refused.content[0].text


def test_a_request_without_a_token_is_refused(api: httpx.Client) -> None:
    refused = api.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})

    assert refused.status_code == 401
