"""A conversation bound to an assistant (`POST /v1/conversations` with `assistant_id`): each of
its chat-completions answers as the assistant does on `/v1/ai/chat`: with the assistant's model
(unless the request names one), its system prompt, its template filled with what its retrieval
finds for the turn, and its MCP servers' tools. The conversation's own system prompt follows the
assistant's. The assistant is read for every answer, so a token that lost the brand loses it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from parley.auth.principal import Principal
from parley.logic.catalog import assistant_servers, find_assistant, find_template, rerank_choice
from parley.logic.rag_chat import DEFAULT_THRESHOLD, DEFAULT_TOP_K  # as POST /v1/ai/chat searches
from parley.models.api.rag import Assistant, AssistantGuardrail, ContextChunk
from parley.models.api.tools import McpTool
from parley.models.domain import Conversation, Message
from parley.models.filters import parse_filters
from parley.rag.prompting import citations, render
from parley.rag.rerank import Reranked
from parley.rag.retrieval import Retriever, retrieval_query
from parley.rag.vectors import ScoredChunk
from parley.sealing import Sealer
from parley.store.catalog import CatalogStore
from parley.store.connections import ConnectionStore

Spent = Callable[[Reranked], None]  # who is charged a reranked search's queries


@dataclass(frozen=True)
class Binding:
    """What a bound conversation's answer uses: the conversation as the model sees it (model and
    system prompt), the assistant's servers, and the chunks retrieved for this turn."""

    conversation: Conversation
    servers: list[McpTool] = field(default_factory=list)
    chunks: list[ScoredChunk] = field(default_factory=list)
    unconnected: list[str] = field(default_factory=list)  # per-user servers this user has not connected
    guardrail: AssistantGuardrail | None = None  # the assistant's own, in place of the deployment's

    def context(self) -> list[ContextChunk]:
        return [
            ContextChunk(id=c.id, content=c.content, score=c.score, title=c.title, page=c.page)
            for c in self.chunks
        ]

    def cited(self, answer: Message) -> None:
        """The answer's citations of the retrieved chunks, kept in its metadata."""
        if self.chunks:
            answer.metadata["citations"] = [c.model_dump() for c in citations(answer.content, self.chunks)]


@dataclass(frozen=True)
class Assistants:
    """What binding needs: the catalog, retrieval and the sealer (None where none is wired)."""

    catalog: CatalogStore
    retrieve: Retriever
    sealer: Sealer | None
    connections: ConnectionStore | None = None


def bind(
    conversation: Conversation,
    history: list[Message],
    principal: Principal,
    assistants: Assistants | None,
    *,
    model: str | None = None,
    spent: Spent | None = None,
) -> Binding:
    """The conversation as its assistant answers it; unbound, as it is."""
    if conversation.assistant_id is None or assistants is None:
        return Binding(conversation)
    assistant = find_assistant(
        principal, conversation.assistant_id, conversation.brand_id, store=assistants.catalog
    )
    chunks = _retrieved(assistant, history, assistants.retrieve, spent)
    template = find_template(
        assistant.brand_id, assistant.template_id, assistant.template_version, store=assistants.catalog
    )
    parts = [
        assistant.system_prompt,
        render(template, assistant.brand_id, chunks),
        conversation.system_prompt,
    ]
    seen = conversation.model_copy(
        update={
            "model": model or assistant.model or conversation.model,
            "system_prompt": "\n\n".join(part for part in parts if part) or None,
        }
    )
    own = assistant_servers(
        assistant,
        store=assistants.catalog,
        sealer=assistants.sealer,
        user_id=principal.user_id,
        connections=assistants.connections,
    )
    return Binding(seen, own.servers, chunks, own.unconnected, assistant.guardrail)


def _retrieved(
    assistant: Assistant, history: list[Message], retrieve: Retriever, spent: Spent | None
) -> list[ScoredChunk]:
    filters = parse_filters(assistant.filters, "assistant.filters")
    query = retrieval_query(history)
    top_k = assistant.top_k or DEFAULT_TOP_K
    threshold = assistant.threshold if assistant.threshold is not None else DEFAULT_THRESHOLD
    return retrieve(
        assistant.brand_id,
        assistant.rag_scope,
        query,
        top_k,
        threshold,
        filters=filters,
        rerank=rerank_choice(assistant),
        spent=spent,
    )
