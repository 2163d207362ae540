"""Parley as an MCP server (docs/mcp.md): JSON-RPC over Streamable HTTP, each request answered
whole as JSON and nothing kept between requests, so one Lambda answers any of them. Both revisions
the `mcp` SDK speaks: 2026-07-28 (`server/discover`, no handshake) and 2025-11-25 (`initialize`,
here without a session). Two tools, on the caller's token: `search_documents` (a brand's chunks for
a query) and `ask_assistant` (an assistant's answer with its citations), limited to the caller's
brands and scopes and metered as the HTTP routes are."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parley.auth.principal import AI_CHAT, Principal
from parley.config import Settings
from parley.errors import InvalidRequest, ParleyError
from parley.logic.generation import Generator
from parley.logic.rag_chat import DEFAULT_THRESHOLD, DEFAULT_TOP_K, rag_chat
from parley.models.api.filters import MetadataFilters
from parley.models.api.rag import ChatTurn, RagChatRequest
from parley.models.filters import parse_filters
from parley.rag.retrieval import Retriever
from parley.sealing import Sealer
from parley.store.catalog import CatalogStore
from parley.store.connections import ConnectionStore

MODERN = "2026-07-28"
HANDSHAKE = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
SERVER_INFO = {"name": "parley", "title": "Parley", "version": "1"}
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INVALID_REQUEST = -32600


class SearchArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand_id: str = Field(min_length=1, max_length=100, description="One of your token's brands.")
    rag_scope: str = Field(min_length=1, max_length=100, description="The document collection.")
    query: str = Field(min_length=1, max_length=4000)
    top_k: int = Field(DEFAULT_TOP_K, gt=0, le=50)
    filters: MetadataFilters | None = Field(None, description="Metadata filters, as on POST /v1/ai/chat.")


class AskArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assistant_id: str = Field(min_length=1, max_length=128, description="One of your brands' assistants.")
    question: str = Field(min_length=1, max_length=32_000)
    brand_id: str | None = Field(None, min_length=1, max_length=100, description="The assistant's brand.")


TOOLS = [
    {
        "name": "search_documents",
        "title": "Search documents",
        "description": "The passages of a brand's documents that best answer a query, with their "
        "document ids, titles, pages and scores.",
        "inputSchema": SearchArguments.model_json_schema(),
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
    },
    {
        "name": "ask_assistant",
        "title": "Ask an assistant",
        "description": "An assistant's answer to a question, grounded in its brand's documents, "
        "with the sources it cites.",
        "inputSchema": AskArguments.model_json_schema(),
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
    },
]


@dataclass(frozen=True)
class Services:
    retrieve: Retriever
    catalog: CatalogStore
    generator: Generator
    config: Settings
    sealer: Sealer | None = None
    connections: ConnectionStore | None = None


def answer(principal: Principal, message: Any, services: Services) -> dict[str, Any] | None:
    """The JSON-RPC response to one message; None for a notification (HTTP 202, no body)."""
    if (
        not isinstance(message, dict)
        or message.get("jsonrpc") != "2.0"
        or not isinstance(message.get("method"), str)
    ):
        return _error(None, INVALID_REQUEST, "A JSON-RPC 2.0 request object is expected.")
    if "id" not in message:
        return None
    identifier, method = message["id"], message["method"]
    given = message.get("params")
    params: dict[str, Any] = given if isinstance(given, dict) else {}
    if method == "server/discover":
        return _result(
            identifier,
            {
                "supportedVersions": [MODERN, *HANDSHAKE],
                "capabilities": {"tools": {}},
                "ttlMs": 300_000,
                "cacheScope": "private",
            },
        )
    if method == "initialize":
        asked = params.get("protocolVersion")
        version = asked if asked in HANDSHAKE else HANDSHAKE[0]
        return _result(
            identifier,
            {
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": SERVER_INFO,
            },
        )
    if method == "ping":
        return _result(identifier, {})
    if method == "tools/list":
        return _result(identifier, {"tools": TOOLS, "ttlMs": 300_000, "cacheScope": "public"})
    if method == "tools/call":
        return _result(identifier, _call(principal, params, services))
    return _error(identifier, METHOD_NOT_FOUND, f"Method not found: {method}")


def _call(principal: Principal, params: dict[str, Any], services: Services) -> dict[str, Any]:
    """A tool's result; what goes wrong in it (a brand not granted, a bad argument, an unknown
    assistant) is a result with `isError`, as MCP has tool errors reach the model."""
    name, arguments = params.get("name"), params.get("arguments") or {}
    try:
        if name == "search_documents":
            found = _search(principal, SearchArguments.model_validate(arguments), services)
        elif name == "ask_assistant":
            found = _ask(principal, AskArguments.model_validate(arguments), services)
        else:
            return _tool_error(f"Unknown tool '{name}': search_documents and ask_assistant are offered.")
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "arguments"
        return _tool_error(f"Invalid arguments: {where}: {first.get('msg', 'is invalid')}.")
    except ParleyError as error:
        return _tool_error(f"{error.code}: {error.message}")
    return {
        "content": [{"type": "text", "text": json.dumps(found)}],
        "structuredContent": found,
        "isError": False,
    }


def _search(principal: Principal, arguments: SearchArguments, services: Services) -> dict[str, Any]:
    principal.require(AI_CHAT)
    principal.require_brand(arguments.brand_id)
    chunks = services.retrieve(
        arguments.brand_id,
        arguments.rag_scope,
        arguments.query,
        arguments.top_k,
        DEFAULT_THRESHOLD,
        filters=parse_filters(arguments.filters),
    )
    return {
        "chunks": [
            {
                "id": chunk.id,
                "document_id": chunk.document_id,
                "title": chunk.title,
                "page": chunk.page,
                "score": round(chunk.score, 4),
                "content": chunk.content,
            }
            for chunk in chunks
        ]
    }


def _ask(principal: Principal, arguments: AskArguments, services: Services) -> dict[str, Any]:
    brand_id = arguments.brand_id or (next(iter(principal.brands)) if len(principal.brands) == 1 else "")
    if not brand_id:
        raise InvalidRequest(
            "Your token grants several brands: name the assistant's brand in brand_id.", code="brand_required"
        )
    reply = rag_chat(
        principal,
        RagChatRequest(
            messages=[ChatTurn(role="user", content=arguments.question)],
            brand_id=brand_id,
            user_id=principal.user_id,
            assistant_id=arguments.assistant_id,
        ),
        catalog=services.catalog,
        generator=services.generator,
        retrieve=services.retrieve,
        config=services.config,
        sealer=services.sealer,
        connections=services.connections,
    )
    return {"answer": reply.content, "citations": [c.model_dump() for c in reply.citations or []]}


def _tool_error(message: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": message}], "isError": True}


def _result(identifier: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": identifier, "result": {**result, "resultType": "complete"}}


def _error(identifier: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": identifier, "error": {"code": code, "message": message}}
