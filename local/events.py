"""Writes events/<function>.json: one API Gateway REST event per function, built by the local
gateway's own event builder, for `sam local invoke -e` and the events test. `make events`."""

from __future__ import annotations

import calendar
import json
import time
import uuid
from typing import Any

from local.gateway import Gateway, HttpRequest
from local.schedule import scheduler_event
from local.settings import LOCAL_SECRET
from local.template import ROOT, load
from local.token import mint
from parley.auth.principal import ALL_SCOPES, Principal

EVENTS_DIR = ROOT / "events"
CONVERSATION_ID = "0192f5c8-7d4e-7a3b-9c1d-2e3f4a5b6c7d"
WORKFLOW_ID = "0192f5c8-7d4e-7a3b-9c1d-2e3f4a5b6c7e"
ASSISTANT_ID = "0192f5c8-7d4e-7a3b-9c1d-2e3f4a5b6c7f"
DOCUMENT_ID = "handbook"
RESPONSE_HEX = "0192f5c97d4e7a3b9c1d2e3f4a5b6c80"
QUEUED_RESPONSE_HEX = "0192f5c97d4e7a3b9c1d2e3f4a5b6c81"  # a background response, queued
STREAM_ID = "0123456789abcdef0123456789abcdef"  # a stream still running
ANSWER_ID = "0192f5c8-7d4e-7a3b-9c1d-2e3f4a5b6c80"  # an assistant message of the seeded conversation
RATED_ANSWER_ID = "0192f5c8-7d4e-7a3b-9c1d-2e3f4a5b6c81"  # one the seeded user has rated
USER = Principal(user_id="events-user", brands=frozenset({"acme"}), scopes=frozenset(ALL_SCOPES))
ISSUED = int(calendar.timegm((2026, 1, 1, 0, 0, 0)))  # fixed, so `make events` rewrites nothing
FAR_FUTURE = int(calendar.timegm((2100, 1, 1, 0, 0, 0)))

REQUESTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "ConversationsCreateFunction": (
        "POST",
        "/v1/conversations",
        {"title": "Trip planning", "system_prompt": "You are a concise travel assistant."},
    ),
    "ConversationsListFunction": ("GET", "/v1/conversations?limit=20", None),
    "ConversationsGetFunction": ("GET", f"/v1/conversations/{CONVERSATION_ID}", None),
    "ConversationsTitleFunction": ("POST", f"/v1/conversations/{CONVERSATION_ID}/title", None),
    "ConversationsExportFunction": (
        "GET",
        f"/v1/conversations/{CONVERSATION_ID}/export?format=markdown",
        None,
    ),
    "ConversationsDeleteFunction": ("DELETE", f"/v1/conversations/{CONVERSATION_ID}", None),
    "ConversationMessagesListFunction": (
        "GET",
        f"/v1/conversations/{CONVERSATION_ID}/messages?limit=50",
        None,
    ),
    "ConversationMessagesAppendFunction": (
        "POST",
        f"/v1/conversations/{CONVERSATION_ID}/messages",
        {"role": "user", "content": "Where should I go in May?", "mode": "chat-completion"},
    ),
    "ConversationMessagesRegenerateFunction": (
        "POST",
        f"/v1/conversations/{CONVERSATION_ID}/messages/{ANSWER_ID}/regenerate",
        {},
    ),
    "ConversationsUpdateFunction": (
        "PATCH",
        f"/v1/conversations/{CONVERSATION_ID}",
        {"active_message_id": ANSWER_ID},
    ),
    "AiDocumentsListFunction": ("GET", "/v1/ai/documents?brand_id=acme&rag_scope=hr", None),
    "ChatsCreateFunction": ("POST", "/api/chats", {"title": "Research", "modelId": "parley-offline"}),
    "ChatMessagesCreateFunction": (
        "POST",
        f"/api/chats/{CONVERSATION_ID}/messages",
        {
            "content": "How can I automate my research workflow?",
            "modelId": "parley-offline",
            "userId": "events-user",
        },
    ),
    "ChatMessagesListFunction": ("GET", f"/api/chats/{CONVERSATION_ID}/messages?limit=20", None),
    "WorkflowsCreateFunction": (
        "POST",
        "/api/workflows",
        {
            "name": "Summarise then translate",
            "steps": [{"prompt": "Summarise: {{input}}"}, {"prompt": "Translate to French: {{previous}}"}],
        },
    ),
    "WorkflowsGetFunction": ("GET", f"/api/workflows/{WORKFLOW_ID}", None),
    "CorsPreflightFunction": ("OPTIONS", "/api/chats", None),
    "OpenAIModelsListFunction": ("GET", "/v1/models", None),
    "OpenAIModelsGetFunction": ("GET", "/v1/models/parley-offline", None),
    "OpenAIChatCompletionsFunction": (
        "POST",
        "/v1/chat/completions",
        {
            "model": "parley-offline",
            "messages": [
                {"role": "system", "content": "You are a concise travel assistant."},
                {"role": "user", "content": "Where should I go in May?"},
            ],
        },
    ),
    "ResponsesCreateFunction": (
        "POST",
        "/v1/responses",
        {"model": "parley-offline", "instructions": "Be concise.", "input": "Where should I go in May?"},
    ),
    "ResponsesGetFunction": ("GET", f"/v1/responses/resp_{RESPONSE_HEX}", None),
    "ResponsesDeleteFunction": ("DELETE", f"/v1/responses/resp_{RESPONSE_HEX}", None),
    "ResponsesInputItemsFunction": ("GET", f"/v1/responses/resp_{RESPONSE_HEX}/input_items", None),
    "ResponsesCancelFunction": ("POST", f"/v1/responses/resp_{QUEUED_RESPONSE_HEX}/cancel", None),
    "StreamsCancelFunction": ("POST", f"/v1/streams/{STREAM_ID}/cancel", None),
    "McpServerFunction": (
        "POST",
        "/mcp",
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
    ),
    "AnthropicMessagesFunction": (
        "POST",
        "/v1/messages",
        {
            "model": "parley-offline",
            "max_tokens": 300,
            "system": "You are a concise travel assistant.",
            "messages": [{"role": "user", "content": "Where should I go in May?"}],
        },
    ),
    "AnthropicCountTokensFunction": (
        "POST",
        "/v1/messages/count_tokens",
        {"model": "parley-offline", "messages": [{"role": "user", "content": "Where should I go in May?"}]},
    ),
    "OpenAIEmbeddingsFunction": (
        "POST",
        "/v1/embeddings",
        {"model": "parley-embedding", "input": ["Where should I go in May?"]},
    ),
    "AiChatFunction": (
        "POST",
        "/v1/ai/chat",
        {
            "messages": [{"role": "user", "content": "How many vacation days do I get?"}],
            "brand_id": "acme",
            "user_id": "events-user",
            "rag_scope": "hr",
            "top_k": 3,
        },
    ),
    "AiDocumentsIngestFunction": (
        "POST",
        "/v1/ai/documents",
        {
            "brand_id": "acme",
            "rag_scope": "hr",
            "document_id": DOCUMENT_ID,
            "title": "Employee handbook",
            "content": "Every employee gets 25 vacation days a year.\n\nUnused days carry over until March.",
        },
    ),
    "AiDocumentsDeleteFunction": (
        "DELETE",
        f"/v1/ai/documents/{DOCUMENT_ID}?brand_id=acme&rag_scope=hr",
        None,
    ),
    "AiTemplatesCreateFunction": (
        "POST",
        "/v1/ai/templates",
        {"brand_id": "acme", "template_id": "support", "body": "Answer as Acme support.\n\n{{context}}"},
    ),
    "AiTemplatesGetFunction": ("GET", "/v1/ai/templates/parley-default?brand_id=acme", None),
    "MeConnectionsPutFunction": (
        "PUT",
        "/v1/me/connections/orders",
        {"authorization": "events-user-token", "brand_id": "acme"},
    ),
    "MeConnectionsListFunction": ("GET", "/v1/me/connections?brand_id=acme", None),
    "MeConnectionsDeleteFunction": ("DELETE", "/v1/me/connections/orders?brand_id=acme", None),
    "ConversationFeedbackPutFunction": (
        "PUT",
        f"/v1/conversations/{CONVERSATION_ID}/messages/{ANSWER_ID}/feedback",
        {"rating": "down", "comment": "It missed the visa rules.", "reasons": ["inaccurate"]},
    ),
    "ConversationFeedbackDeleteFunction": (
        "DELETE",
        f"/v1/conversations/{CONVERSATION_ID}/messages/{RATED_ANSWER_ID}/feedback",
        None,
    ),
    "ChatFeedbackPutFunction": (
        "PUT",
        f"/api/chats/{CONVERSATION_ID}/messages/{ANSWER_ID}/feedback",
        {"rating": "up"},
    ),
    "ChatFeedbackDeleteFunction": (
        "DELETE",
        f"/api/chats/{CONVERSATION_ID}/messages/{RATED_ANSWER_ID}/feedback",
        None,
    ),
    "AiSyncFunction": ("POST", "/v1/ai/sync", {"brand_id": "acme", "rag_scope": "hr"}),
    "AiFilesCreateFunction": (
        "POST",
        "/v1/ai/files",
        {
            "brand_id": "acme",
            "rag_scope": "hr",
            "filename": "policies.pdf",
            "content_type": "application/pdf",
            "size": 48213,
        },
    ),
    "ConversationsImportFunction": (
        "POST",
        "/v1/conversations/import",
        {
            "format": "parley.conversation.v1",
            "conversation": {"title": "Trip planning", "model": "parley-offline", "metadata": {}},
            "messages": [
                {"id": "0190a1b2-0000-7000-8000-000000000001", "role": "user", "content": "A week in May?"},
                {"id": "0190a1b2-0000-7000-8000-000000000002", "role": "assistant", "content": "Lisbon."},
            ],
            "archived": [
                {
                    "id": "0190a1b2-0000-7000-8000-000000000003",
                    "role": "assistant",
                    "content": "Porto.",
                    "parent_id": "0190a1b2-0000-7000-8000-000000000001",
                }
            ],
        },
    ),
    "AiDocumentsGetFunction": ("GET", f"/v1/ai/documents/{DOCUMENT_ID}?brand_id=acme&rag_scope=hr", None),
    "AiAssistantsCreateFunction": (
        "POST",
        "/v1/ai/assistants",
        {"brand_id": "acme", "name": "HR helper", "rag_scope": "hr", "top_k": 3},
    ),
    "AiAssistantsGetFunction": ("GET", f"/v1/ai/assistants/{ASSISTANT_ID}", None),
    "AiAssistantsUpdateFunction": (
        "PUT",
        f"/v1/ai/assistants/{ASSISTANT_ID}",
        {"brand_id": "acme", "name": "HR helper", "rag_scope": "hr", "top_k": 5},
    ),
    "UsageReportFunction": ("GET", "/v1/usage?brand_id=acme&from=2026-11-01&to=2026-11-30", None),
    "QuotasGetFunction": ("GET", "/v1/quotas/acme", None),
    "QuotasPutFunction": (
        "PUT",
        "/v1/quotas/acme",
        {"user_daily_tokens": 100_000, "brand_daily_tokens": 2_000_000},
    ),
}
# The chats document authenticates with the session cookie; the others with the Bearer header.
COOKIE_AUTH = {
    "ChatMessagesCreateFunction",
    "ChatMessagesListFunction",
    "ChatFeedbackPutFunction",
    "ChatFeedbackDeleteFunction",
}


def event_name(logical_id: str) -> str:
    """ConversationMessagesAppendFunction → conversation_messages_append (the function's folder)."""
    return load().functions[logical_id].code_dir.name


def build() -> dict[str, dict[str, Any]]:
    gateway = Gateway()
    token = mint(
        USER.user_id, sorted(USER.brands), secret=LOCAL_SECRET, iat=ISSUED, nbf=ISSUED, exp=FAR_FUTURE
    )
    events: dict[str, dict[str, Any]] = {}
    for logical_id, (method, url, body) in REQUESTS.items():
        headers = {"Content-Type": ["application/json"], "Authorization": [f"Bearer {token}"]}
        if logical_id in COOKIE_AUTH:
            headers = {"Content-Type": ["application/json"], "Cookie": [f"session={token}"]}
        if logical_id == "CorsPreflightFunction":
            headers = {"Origin": ["https://app.example.com"], "Access-Control-Request-Method": ["POST"]}
        request = HttpRequest(method, url, headers, json.dumps(body).encode() if body else b"")
        route, parameters = gateway.route(method, request.raw_path)
        assert route is not None and route.function == logical_id, f"{method} {url} is not {logical_id}"
        event = gateway.event(route, request, parameters)
        _fix_request_identity(event, logical_id)
        if logical_id == "ConversationMessagesListFunction":
            events["authorizer"] = gateway.authorizer_event(event)
        if route.authorized:
            event["requestContext"]["authorizer"] = {"principalId": USER.user_id, **USER.to_context()}
        events[event_name(logical_id)] = event
    return events


def _fix_request_identity(event: dict[str, Any], logical_id: str) -> None:
    """The same ids and time on every run, so regenerating the events changes only what changed."""
    context = event["requestContext"]
    request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"parley-event:{logical_id}"))
    context.update(
        requestId=request_id,
        extendedRequestId=request_id,
        requestTime=time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(ISSUED)),
        requestTimeEpoch=ISSUED * 1000,
    )


def upload_notification_event() -> dict[str, Any]:
    """What Lambda's SQS event source mapping sends the ingestion worker: here, the test message
    S3 sends when a notification is set up (the worker skips it)."""
    body = {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2026-01-01T00:00:00.000Z",
        "Bucket": "files",
    }
    return {
        "Records": [
            {
                "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
                "body": json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(ISSUED * 1000),
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": str(ISSUED * 1000),
                },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:parley-files",
                "awsRegion": "us-east-1",
            }
        ]
    }


def main() -> None:
    EVENTS_DIR.mkdir(exist_ok=True)
    extra = {"cleanup": scheduler_event(), "ai_files_worker": upload_notification_event()}
    for name, event in {**build(), **extra}.items():
        (EVENTS_DIR / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")
        print(f"events/{name}.json")


if __name__ == "__main__":
    main()
