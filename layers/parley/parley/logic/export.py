"""GET /v1/conversations/{id}/export: a conversation whole, with its messages' roles, times,
models, citations and ratings, as Markdown for people or JSON to re-import. Read page by page,
as the history is (each page one Query, with its feedback)."""

from __future__ import annotations

import json
from typing import Literal

from parley.auth.principal import Principal
from parley.errors import ContentTooLarge
from parley.logic.conversations import get_conversation
from parley.models.domain import Conversation, Message
from parley.models.tree import branch_of, family_records
from parley.store.branch_moves import BranchStore
from parley.store.conversations import ConversationStore

ExportFormat = Literal["markdown", "json"]
PAGE = 200
MAX_EXPORT_BYTES = 5 * 1024 * 1024  # under Lambda's 6 MB response
JSON_FORMAT = "parley.conversation.v1"


def export_conversation(
    principal: Principal,
    conversation_id: str,
    export_format: ExportFormat,
    *,
    store: ConversationStore,
    branches: BranchStore,
) -> tuple[str, str]:
    """The export's body and its content type; someone else's conversation reads as missing.
    JSON holds the whole tree, to re-import (POST /v1/conversations/import): the active branch
    in `messages`, in order, and every other branch's messages in `archived`, each with its
    `parent_id`; Markdown, for people, the active branch."""
    conversation = get_conversation(principal, conversation_id, store=store)
    messages = _all_messages(store, conversation.id)
    if export_format == "json":
        archive, _ = branches.archive(conversation.id)
        archived = [archive[key].message for key in sorted(archive)]
        _with_whole_branches([*messages, *archived])
        body = json.dumps(
            {
                "format": JSON_FORMAT,
                "conversation": conversation.model_dump(mode="json"),
                "messages": [m.model_dump(mode="json") for m in messages],
                "archived": [m.model_dump(mode="json") for m in archived],
            },
            ensure_ascii=False,
        )
        content_type = "application/json"
    else:
        body, content_type = as_markdown(conversation, messages), "text/markdown; charset=utf-8"
    if len(body.encode()) > MAX_EXPORT_BYTES:
        raise ContentTooLarge(
            f"The export is larger than {MAX_EXPORT_BYTES // (1024 * 1024)} MiB; read the conversation "
            "page by page with GET /v1/conversations/{id}/messages."
        )
    return body, content_type


def _with_whole_branches(tree: list[Message]) -> None:
    """Each message's place among its versions as the whole tree has them."""
    records, roots = family_records({message.id: message.parent_id for message in tree})
    for message in tree:
        parent = records[message.parent_id] if message.parent_id is not None else roots
        message.branch = branch_of(records[message.id], parent.children)


def _all_messages(store: ConversationStore, conversation_id: str) -> list[Message]:
    pages: list[list[Message]] = []
    before: str | None = None
    while True:
        page = store.history(conversation_id, PAGE, before)
        if page is None or not page.messages:
            break
        pages.append(page.messages)
        if len(page.messages) < PAGE:
            break
        before = page.messages[0].id
    return [message for page in reversed(pages) for message in page]


def as_markdown(conversation: Conversation, messages: list[Message]) -> str:
    lines = [f"# {conversation.title or 'Untitled conversation'}", ""]
    lines += [
        f"- Conversation: `{conversation.id}`",
        f"- Model: {conversation.model}",
        f"- Created: {conversation.created_at}",
        *([f"- Brand: {conversation.brand_id}"] if conversation.brand_id else []),
        f"- Messages: {len(messages)}",
        "",
    ]
    if conversation.system_prompt:
        lines += ["## System prompt", "", conversation.system_prompt, ""]
    for message in messages:
        model = message.metadata.get("model")
        heading = f"## {message.role}" + (f" ({model})" if model else "") + f" · {message.created_at}"
        lines += [heading, "", message.content or "", ""]
        for call in message.tool_calls or []:
            function = call.get("function", {}) if isinstance(call, dict) else {}
            arguments = function.get("arguments", "")
            lines += [f"Tool call `{function.get('name', '?')}`:", "", "```json", str(arguments), "```", ""]
        for number, citation in enumerate(_citations(message), start=1):
            source = citation.get("title") or citation.get("document_id") or "source"
            lines.append(
                f"[{number}] {source}" + (f", p. {citation['page']}" if citation.get("page") else "")
            )
        if message.feedback is not None:
            rating = message.feedback.rating
            comment = f": {message.feedback.comment}" if message.feedback.comment else ""
            lines += [f"> Rated {rating}{comment}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _citations(message: Message) -> list[dict[str, object]]:
    """The message's citations: Parley writes a list of objects; a client may have appended a
    message whose metadata says anything, so whatever is not one is left out."""
    citations = message.metadata.get("citations")
    if not isinstance(citations, list):
        return []
    return [citation for citation in citations if isinstance(citation, dict)]
