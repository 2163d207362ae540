"""What makes openapi.json a reference a new integrator can learn the API from, all taken from
the code: each operation's tag (its area), summary and description (its function's docstring),
a request example (the body its events/ file sends), each path and query parameter described,
and an example body for every error status."""

from __future__ import annotations

import json
import re
from typing import Any

from parley.edge.anthropic_errors import anthropic_error_json
from parley.edge.openai_errors import openai_error_json

TAGS = [
    ("Conversations", "Conversations and their messages (documents 000 and 001), feedback on answers."),
    (
        "Chats",
        "The chats API (document 002): chats, messages, responses, feedback; camelCase, `data`-wrapped.",
    ),
    ("Workflows", "Ordered prompt steps a chat message can run (scope admin)."),
    ("RAG", "Answers grounded in a brand's documents (document 003), prompt templates and assistants."),
    (
        "Documents",
        "Documents for RAG: text, small files inline, larger files uploaded and parsed in the background.",
    ),
    ("Administration", "Usage reports and daily token budgets per brand (scope admin)."),
    (
        "Tools",
        "A user's own credentials for an assistant's MCP servers (docs/tools.md), and Parley as an MCP "
        "server (docs/mcp.md).",
    ),
    (
        "Streams",
        "Streamed answers that survive a dropped connection (docs/streaming.md): re-attach with "
        "`Last-Event-ID`, stop one explicitly.",
    ),
    (
        "OpenAI-compatible",
        "OpenAI's Models, Chat Completions and Embeddings APIs, for the OpenAI SDKs, LangChain and chat "
        "UIs: the same JWT as the API key, errors in OpenAI's shape `{error: {message, type, param, code}}` "
        "(but those API Gateway answers before any function runs: a missing or bad token's 401).",
    ),
    (
        "Anthropic-compatible",
        "Anthropic's Messages API, for the Anthropic SDKs (docs/anthropic.md): the same JWT as a bearer "
        "token, errors in Anthropic's shape `{type: error, error: {type, message}}`.",
    ),
]
OPENAI_PREFIXES = ("/v1/models", "/v1/chat/completions", "/v1/embeddings", "/v1/responses")
ANTHROPIC_PREFIXES = ("/v1/messages",)
_AREAS = [
    *((prefix, "OpenAI-compatible") for prefix in OPENAI_PREFIXES),
    *((prefix, "Anthropic-compatible") for prefix in ANTHROPIC_PREFIXES),
    ("/v1/conversations", "Conversations"),
    ("/api/chats", "Chats"),
    ("/api/workflows", "Workflows"),
    ("/v1/ai/documents", "Documents"),
    ("/v1/ai/files", "Documents"),
    ("/v1/ai", "RAG"),
    ("/v1/usage", "Administration"),
    ("/v1/quotas", "Administration"),
    ("/v1/me/connections", "Tools"),
    ("/mcp", "Tools"),
    ("/v1/streams", "Streams"),
]
PARAMETERS = {
    "conversation_id": "The conversation's id (a UUID, as POST /v1/conversations returned it).",
    "message_id": "The message's id (a UUIDv7: ids sort by creation time).",
    "chatId": "The chat's id (a UUID, as POST /api/chats returned it).",
    "messageId": "The message's id (a UUIDv7).",
    "workflowId": "The workflow's id (a UUID).",
    "assistant_id": "The assistant's id.",
    "response_id": "The response's id (`resp_...`), as POST /v1/responses returned it.",
    "stream_id": "The stream's id: the part of its events' `id:` before the colon.",
    "server_label": "The MCP server's label, as the assistant's `mcp` tool names it.",
    "template_id": "The prompt template's id (`parley-default` is built in).",
    "document_id": "The document's id, as given at ingestion or returned by it.",
    "brand_id": "The brand (tenant); it must be one of the token's `brands`.",
    "rag_scope": "The document collection within the brand.",
    "limit": "How many items a page holds.",
    "before": "Page back: the id of the oldest message you have; older messages come.",
    "cursor": "The `next_cursor` / `nextCursor` of the previous page.",
    "version": "A template version (default: the latest).",
    "from": "The first UTC day, YYYY-MM-DD (default: 29 days before `to`).",
    "model_id": "A model id of GET /v1/models: a registry model, the embedder, or `assistant:<id>`.",
    "X-Parley-Brand": "The brand to meter the request in, when the token grants several.",
    "to": "The last UTC day, YYYY-MM-DD (default: today).",
}
ERROR_EXAMPLES = {
    "400": ("invalid_request", "Invalid request: body.content: String should have at least 1 character."),
    "401": ("unauthorized", "Missing or invalid token."),
    "403": ("forbidden", "The token does not grant access to brand 'globex'."),
    "404": ("conversation_not_found", "Conversation '0192f5c8-7d4e-7a3b-9c1d-2e3f4a5b6c7d' was not found."),
    "409": ("idempotency_key_reused", "This Idempotency-Key was used with a different request body."),
    "413": ("content_too_large", "Message content is 300000 bytes; the limit is 262144."),
    "429": ("quota_exceeded", "Your daily token budget (200,000 tokens) is spent; it renews at 00:00 UTC."),
    "500": ("internal_error", "Something went wrong on our side; it has been logged."),
    "502": (
        "provider_error",
        "OpenAI answered HTTP 503 after retries; nothing was stored, so the request can be retried.",
    ),
    "503": ("service_unavailable", "The conversation store is busy; retry in a moment."),
    "504": (
        "provider_timeout",
        "OpenAI did not answer in time; nothing was stored, so the request can be retried.",
    ),
}


_MESSAGE: dict[str, Any] = {
    "id": "0192f5c9-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
    "conversation_id": "0192f5c8-7d4e-7a3b-9c1d-2e3f4a5b6c7d",
    "role": "user",
    "content": "Where should I go in May?",
    "tool_calls": None,
    "token_usage": None,
    "metadata": {},
    "created_at": "2026-11-30T09:15:02.114Z",
    "feedback": None,
}
_ANSWER = {
    **_MESSAGE,
    "id": "0192f5c9-1c40-7d11-9a2e-3b4c5d6e7f80",
    "role": "assistant",
    "content": "Lisbon: mild in May, and before the summer crowds.",
    "token_usage": {"prompt_tokens": 42, "completion_tokens": 12, "total_tokens": 54},
    "metadata": {
        "provider": "openai",
        "model": "gpt-4o-mini-2024-07-18",
        "requested_model": "gpt-4o-mini",
        "finish_reason": "stop",
        "cost_usd": 1.35e-05,
        "latency_ms": 812,
        "context_messages": 1,
    },
    "created_at": "2026-11-30T09:15:03.020Z",
}
RESPONSE_EXAMPLES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/conversations/{conversation_id}/messages"): {
        "message": _MESSAGE,
        "assistant_message": _ANSWER,
    },
    ("GET", "/v1/conversations/{conversation_id}/messages"): {"total": 2, "messages": [_MESSAGE, _ANSWER]},
    ("POST", "/v1/ai/chat"): {
        "content": "Parental leave lasts sixteen weeks at full pay [1].",
        "model": "gpt-4o-mini-2024-07-18",
        "usage": {"prompt_tokens": 310, "completion_tokens": 14, "total_tokens": 324},
        "rag_context": [
            {
                "id": "handbook:2",
                "content": "Parental leave lasts sixteen weeks at full pay.",
                "score": 0.83,
                "title": "Handbook",
                "page": 3,
            }
        ],
        "citations": [
            {
                "index": 1,
                "content": "Parental leave lasts sixteen weeks at full pay.",
                "document_id": "handbook",
                "score": 0.83,
                "title": "Handbook",
                "page": 3,
            }
        ],
        "finish_reason": "stop",
        "template_id": "parley-default",
        "template_version": "1",
    },
    ("POST", "/v1/ai/files"): {
        "document_id": "policies",
        "status": "pending",
        "upload": {
            "url": "https://parley-dev-files-123456789012-eu-west-1.s3.amazonaws.com/uploads/WyJhY21lIl0/0192f5c9?X-Amz-Signature=...",
            "method": "PUT",
            "headers": {"Content-Type": "application/pdf"},
            "expires_at": "2026-11-30T09:30:00.000Z",
        },
    },
    ("GET", "/v1/ai/documents/{document_id}"): {
        "document_id": "policies",
        "status": "ready",
        "error": None,
        "filename": "policies.pdf",
        "content_type": "application/pdf",
        "bytes": 48213,
        "pages": 12,
        "chunks": 31,
        "updated_at": "2026-11-30T09:16:41.503Z",
    },
    ("PUT", "/v1/conversations/{conversation_id}/messages/{message_id}/feedback"): {
        "feedback": {
            "rating": "down",
            "comment": "It missed the visa rules.",
            "reasons": ["inaccurate"],
            "updated_at": "2026-11-30T09:20:11.402Z",
        }
    },
}


def area(path: str) -> str:
    return next(tag for prefix, tag in _AREAS if path.startswith(prefix))


def summary_of(docstring: str) -> str:
    """`POST /v1/x: a thing, with detail (scope admin).` → `A thing, with detail`."""
    first = " ".join(docstring.split()).split(": ", 1)[-1]
    first = re.split(r"(?<=[a-z)])\. |; |, which ", first)[0].rstrip(".")
    first = re.sub(r"\s*\([^)]*\)", "", first)
    return first[:1].upper() + first[1:]


def enrich(
    document: dict[str, Any], docstrings: dict[tuple[str, str], str], examples: dict[tuple[str, str], Any]
) -> None:
    document["tags"] = [{"name": name, "description": text} for name, text in TAGS]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            docstring = docstrings.get((method.upper(), path), "")
            operation["tags"] = [area(path)]
            if docstring:
                operation["summary"] = summary_of(docstring)
                operation["description"] = " ".join(docstring.split())
            for parameter in operation.get("parameters", []):
                if parameter.get("name") in PARAMETERS and not parameter.get("description"):
                    parameter["description"] = PARAMETERS[parameter["name"]]
            example = examples.get((method.upper(), path))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and example is not None:
                body["example"] = example
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {}).get("application/json")
                if (
                    status.startswith("2")
                    and content is not None
                    and (method.upper(), path) in RESPONSE_EXAMPLES
                ):
                    content["example"] = RESPONSE_EXAMPLES[(method.upper(), path)]
                if status in ERROR_EXAMPLES and content is not None and "example" not in content:
                    code, message = ERROR_EXAMPLES[status]
                    if path.startswith(OPENAI_PREFIXES) and status != "401":
                        content["example"] = json.loads(openai_error_json(int(status), code, message))
                    elif path.startswith(ANTHROPIC_PREFIXES) and status != "401":
                        content["example"] = json.loads(anthropic_error_json(int(status), code, message))
                    else:
                        content["example"] = {"error": code, "message": message}
