"""The stateless RAG chat of document 003: retrieve the brand's chunks for the latest user
message, answer from a stored, versioned prompt template, and cite what the answer used."""

from __future__ import annotations

from typing import Any

from parley.auth.principal import ACT_AS, AI_CHAT, Principal
from parley.config import Settings
from parley.errors import Forbidden
from parley.logic.catalog import assistant_servers, find_assistant, find_template, rerank_choice
from parley.logic.generation import Generator, Listener
from parley.logic.prompt import fit_history
from parley.logic.tool_loop import answer_with_tools, open_toolbox
from parley.models.api.rag import ContextChunk, RagChatRequest, RagChatResponse, Usage
from parley.models.filters import narrowed, parse_filters
from parley.models.tools import ToolRun
from parley.providers.base import ChatRequest, PromptMessage
from parley.providers.credentials import default_model
from parley.providers.registry import model_spec
from parley.rag.prompting import citations, render
from parley.rag.retrieval import Retriever, retrieval_query
from parley.sealing import Sealer
from parley.store.catalog import CatalogStore
from parley.store.connections import ConnectionStore

DEFAULT_TOP_K = 5
# Calibrated with `make eval` (see docs/rag.md): chunks unrelated to the question score below it.
DEFAULT_THRESHOLD = 0.45


NO_APPROVAL_HERE = "POST /v1/ai/chat keeps no answer to approve later: use a conversation"


def rag_chat(
    principal: Principal,
    request: RagChatRequest,
    *,
    catalog: CatalogStore,
    generator: Generator,
    retrieve: Retriever,
    config: Settings,
    listener: Listener | None = None,
    sealer: Sealer | None = None,
    connections: ConnectionStore | None = None,
) -> RagChatResponse:
    """A listener receives the retrieved context, then the answer as it is generated."""
    principal.require(AI_CHAT)
    principal.require_brand(request.brand_id)
    if request.user_id != principal.user_id and ACT_AS not in principal.scopes:
        raise Forbidden("user_id must be the caller.")
    # Retrieval searches for the latest user message; with none (or an empty one) the model answers
    # without sources, as it would with nothing above the threshold.
    generation = generator.open(request.brand_id, principal, listener, user_id=request.user_id)

    assistant = (
        find_assistant(principal, request.assistant_id, request.brand_id, store=catalog)
        if request.assistant_id
        else None
    )
    preset: dict[str, Any] = assistant.model_dump() if assistant else {}

    def pick(name: str, requested: Any, default: Any = None) -> Any:
        """The request's value, else the assistant's, else Parley's default."""
        for value in (requested, preset.get(name)):
            if value is not None:
                return value
        return default

    spec = model_spec(pick("model", request.model, default_model(config)), config)
    scope: str | None = pick("rag_scope", request.rag_scope)
    top_k: int = pick("top_k", request.top_k, DEFAULT_TOP_K)
    threshold: float = pick("threshold", request.threshold, DEFAULT_THRESHOLD)
    temperature: float | None = pick("temperature", request.temperature)
    template = find_template(
        request.brand_id, preset.get("template_id"), preset.get("template_version"), store=catalog
    )

    filters = narrowed(
        parse_filters(preset.get("filters"), "assistant.filters"), parse_filters(request.filters)
    )
    chunks = retrieve(
        request.brand_id,
        scope,
        retrieval_query(request.messages),
        top_k,
        threshold,
        filters=filters,
        rerank=rerank_choice(assistant),
        spent=generation.charge_rerank,
    )
    rag_context = [
        ContextChunk(id=c.id, content=c.content, score=c.score, title=c.title, page=c.page) for c in chunks
    ]
    generation.context(rag_context)
    system_prompt = render(template, request.brand_id, chunks)
    if assistant is not None and assistant.system_prompt:
        system_prompt = f"{assistant.system_prompt}\n\n{system_prompt}"
    max_output = request.max_tokens or spec.max_output_tokens
    turns = fit_history(
        spec, system_prompt, [PromptMessage(m.role, m.content) for m in request.messages], max_output
    )
    chat = ChatRequest(
        model=spec.id,
        messages=turns,
        system_prompt=system_prompt,
        max_tokens=max_output,
        temperature=temperature,
    )
    own = (
        assistant_servers(
            assistant, store=catalog, sealer=sealer, user_id=request.user_id, connections=connections
        )
        if assistant is not None
        else None
    )
    toolbox = open_toolbox(
        own.servers if own else [],
        set(),
        generator.remote_tools,
        config,
        where=NO_APPROVAL_HERE,
        unconnected=own.unconnected if own else None,
    )
    runs: list[ToolRun] = []
    if toolbox is not None and generator.remote_tools is not None:
        completion, runs = answer_with_tools(
            generation, spec, chat, toolbox, client=generator.remote_tools, config=config
        )
    else:
        completion, _ = generation.call(spec, chat)
    generation.settle_alone()
    return RagChatResponse(
        content=completion.content,
        model=completion.model,
        usage=Usage(**completion.usage.model_dump()),
        rag_context=rag_context,
        citations=citations(completion.content, chunks),
        finish_reason=completion.finish_reason,
        template_id=template.template_id,
        template_version=template.version,
        tool_runs=[run.record() for run in runs] or None,
    )
