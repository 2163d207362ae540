"""POST /v1/chat/completions: OpenAI's Chat Completions on the one generation unit of work.
Stateless, as the API it copies: the client sends the whole conversation and nothing is stored
but usage, which is metered, budgeted and reported like every other generation. A model id is a
registry model or `assistant:<id>`, whose prompt, template, model and RAG scope apply: the last
user turn is answered with retrieval from the assistant's documents as POST /v1/ai/chat does."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from parley.auth.principal import AI_CHAT, Principal
from parley.config import Settings
from parley.errors import InvalidRequest, ModelNotFound, UnknownModel
from parley.ids import new_identity
from parley.logic.approvals import Stopping, answered, resume
from parley.logic.catalog import assistant_servers, find_assistant, find_template, rerank_choice
from parley.logic.generation import Generation, Generator, Listener
from parley.logic.prompt import fit_history
from parley.logic.rag_chat import DEFAULT_THRESHOLD, DEFAULT_TOP_K
from parley.logic.structured_output import as_content, with_response_format
from parley.logic.tool_loop import Toolbox, answer_with_tools, open_toolbox, requested_servers, together
from parley.models.api.json_schemas import check_json_schema
from parley.models.api.openai import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessage,
    Choice,
    CompletionTokensDetails,
    CompletionUsage,
    PromptTokensDetails,
    ToolCall,
)
from parley.models.api.rag import Assistant
from parley.models.api.tools import NamedToolChoice, ToolChoice, checked_tools, chosen_name, function_tools
from parley.models.approvals import ROUND
from parley.models.filters import narrowed, parse_filters
from parley.models.tools import ToolRun
from parley.providers.base import ChatRequest, Completion, Delta, PromptMessage
from parley.providers.credentials import default_model
from parley.providers.registry import ModelSpec, model_spec
from parley.rag.prompting import citations, render
from parley.rag.retrieval import Retriever, retrieval_query
from parley.rag.vectors import ScoredChunk
from parley.sealing import Sealer
from parley.store.catalog import CatalogStore
from parley.store.connections import ConnectionStore

ASSISTANT_PREFIX = "assistant:"
BRAND_HEADER = "X-Parley-Brand"


NO_APPROVAL_HERE = (
    "/v1/chat/completions keeps no answer to approve later: use a conversation "
    "(POST /v1/conversations/{id}/messages) or the Responses API"
)


def _generated(
    generation: Generation,
    spec: ModelSpec,
    chat: ChatRequest,
    toolbox: Toolbox | None,
    stopping: Stopping | None,
    *,
    config: Settings,
    streamed: bool,
    unconnected: list[str],
) -> tuple[Completion, list[ToolRun]]:
    """The answer, with the MCP tools run; the calls a stop's approval resumes run first."""
    runs: list[ToolRun] = []
    if stopping is not None and stopping.answer is not None:
        stopping.results, runs = resume(
            stopping.answer, toolbox, generation=generation, config=config, unconnected=unconnected
        )
        chat = replace(chat, messages=answered(chat.messages, stopping.results))
    client = generation.generator.remote_tools
    if toolbox is None or client is None:
        completion, _ = generation.call(spec, chat, streamed=streamed)
        return completion, runs
    completion, made = answer_with_tools(
        generation, spec, chat, toolbox, client=client, config=config, streamed=streamed
    )
    return completion, runs + made


def metered_brand(principal: Principal, header: str | None) -> str:
    """The brand a request is metered in: the X-Parley-Brand header's (one of the token's), else
    the token's one brand; a token of several brands must name one."""
    if header:
        principal.require_brand(header)
        return header
    if len(principal.brands) == 1:
        return next(iter(principal.brands))
    raise InvalidRequest(
        f"The token grants {len(principal.brands)} brands: name the one to meter this request in "
        f"with the {BRAND_HEADER} header.",
        code="brand_required",
    )


def completion_request(body: dict[str, Any]) -> ChatCompletionRequest:
    """The Chat Completions request another API's request was read as (the Messages and
    Responses APIs); a 400 naming the first field that does not fit."""
    try:
        return ChatCompletionRequest.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise InvalidRequest(f"Invalid request: {where}: {first.get('msg', 'is invalid')}.") from None


def chat_completion(
    principal: Principal,
    request: ChatCompletionRequest,
    brand_header: str | None = None,
    *,
    catalog: CatalogStore,
    generator: Generator,
    retrieve: Retriever,
    config: Settings,
    listener: Listener | None = None,
    sealer: Sealer | None = None,
    connections: ConnectionStore | None = None,
    stopping: Stopping | None = None,
    masked: dict[str, str] | None = None,
) -> ChatCompletion:
    """`stopping`: the answer is stored to be continued, so its MCP calls may stop for approval
    (the Responses API); without it a server that asks for approval is a 400. `masked` receives
    the user texts the guardrail masked (original to masked), for a caller that stores them."""
    principal.require(AI_CHAT)
    where = None if stopping is not None else NO_APPROVAL_HERE
    brand_id = metered_brand(principal, brand_header)
    _refuse_what_parley_cannot_honour(request)
    system_parts, turns = _conversation(request.messages)
    identifier, created = getattr(listener, "identity", None) or new_identity()
    generation = generator.open(brand_id, principal, listener)  # before anything is spent

    assistant: Assistant | None = None
    if request.model.startswith(ASSISTANT_PREFIX):
        assistant = find_assistant(
            principal, request.model.removeprefix(ASSISTANT_PREFIX), brand_id, store=catalog
        )
    spec = _spec(request.model, assistant, config)
    if assistant is not None and assistant.guardrail is not None:
        generation.guard_with(assistant.guardrail.id, assistant.guardrail.version)
    if assistant is None and request.filters is not None:
        raise InvalidRequest(
            f"filters narrow the searches of an assistant model (assistant:<id>); {request.model} "
            "searches no documents.",
            code="invalid_filters",
            param="filters",
        )
    chunks: list[ScoredChunk] = []
    if assistant is not None:
        top_k = assistant.top_k or DEFAULT_TOP_K
        threshold = assistant.threshold if assistant.threshold is not None else DEFAULT_THRESHOLD
        filters = narrowed(
            parse_filters(assistant.filters, "assistant.filters"), parse_filters(request.filters)
        )
        chunks = retrieve(
            brand_id,
            assistant.rag_scope,
            retrieval_query(turns),
            top_k,
            threshold,
            filters=filters,
            rerank=rerank_choice(assistant),
            spent=generation.charge_rerank,
        )
        generation.context(chunks)
        template = find_template(brand_id, assistant.template_id, assistant.template_version, store=catalog)
        system_parts = [
            p for p in (assistant.system_prompt, render(template, brand_id, chunks)) if p
        ] + system_parts
    system_prompt = "\n\n".join(system_parts) or None

    max_output = request.max_completion_tokens or request.max_tokens or spec.max_output_tokens
    if len(fit_history(spec, system_prompt, turns, max_output)) < len(turns):
        raise InvalidRequest(
            f"The messages do not fit {spec.id}'s context window of {spec.context_window:,} tokens "
            "with the answer's budget; send fewer or shorter messages.",
            code="context_too_long",
            param="messages",
        )
    tools = checked_tools(function_tools(request.tools))
    _check_tool_choice(request, tools)
    servers = requested_servers(request.tools, generator.remote_tools, config, where=where)
    chat, structured = with_response_format(
        ChatRequest(
            model=spec.id,
            messages=turns,
            system_prompt=system_prompt,
            max_tokens=max_output,
            temperature=request.temperature if request.temperature is not None else _preset(assistant),
            tools=tools,
            tool_choice=_dumped(request.tool_choice),
            top_p=request.top_p,
            stop=[request.stop] if isinstance(request.stop, str) else request.stop,
        ),
        spec,
        request.response_format.model_dump(by_alias=True, exclude_none=True)
        if request.response_format
        else None,
    )
    unconnected: list[str] = []
    if assistant is not None:
        own = assistant_servers(
            assistant, store=catalog, sealer=sealer, user_id=principal.user_id, connections=connections
        )
        servers, unconnected = together(own.servers, servers), own.unconnected
    names = {tool["function"]["name"] for tool in tools or []}
    toolbox = open_toolbox(
        servers, names, generator.remote_tools, config, where=where, unconnected=unconnected
    )
    completion, runs = _generated(
        generation,
        spec,
        chat,
        toolbox,
        stopping,
        config=config,
        streamed=not structured,
        unconnected=unconnected,
    )
    stopped = completion.metadata.get(ROUND)  # calls waiting for the user's approval
    if structured:
        completion = as_content(completion)
        if listener is not None and completion.content:
            listener.delta(Delta(content=completion.content))  # the document, whole, as one piece
    generation.settle_alone()
    if masked is not None and generation.screen is not None:
        masked.update(generation.screen.masked)

    details = completion.metadata
    return ChatCompletion(
        id=identifier,
        created=created,
        model=completion.model,
        choices=[
            Choice(
                message=AssistantMessage(
                    content=completion.content if completion.content or not completion.tool_calls else None,
                    tool_calls=[ToolCall.model_validate(c) for c in completion.tool_calls]
                    if completion.tool_calls and not stopped
                    else None,
                    approval_round=stopped,
                    citations=[c.model_dump() for c in citations(completion.content, chunks)]
                    if assistant is not None
                    else None,
                    tool_runs=[run.record() for run in runs] or None,
                ),
                finish_reason=completion.finish_reason,
            )
        ],
        usage=CompletionUsage(
            prompt_tokens=completion.usage.prompt_tokens,
            completion_tokens=completion.usage.completion_tokens,
            total_tokens=completion.usage.total_tokens,
            prompt_tokens_details=PromptTokensDetails(cached_tokens=int(details.get("cached_tokens") or 0)),
            completion_tokens_details=CompletionTokensDetails(
                reasoning_tokens=int(details.get("reasoning_tokens") or 0)
            ),
        ),
    )


def _spec(model: str, assistant: Assistant | None, config: Settings) -> ModelSpec:
    if assistant is not None:
        return model_spec(assistant.model or default_model(config), config)
    try:
        return model_spec(model, config)
    except UnknownModel as unknown:
        raise ModelNotFound(model, unknown.endpoint_models) from None


def _preset(assistant: Assistant | None) -> float | None:
    return assistant.temperature if assistant is not None else None


def _conversation(messages: list[ChatMessage]) -> tuple[list[str], list[PromptMessage]]:
    """The system and developer messages' text, and the turns in Parley's provider-neutral form;
    a tool result must answer a call an earlier assistant message made."""
    system: list[str] = []
    turns: list[PromptMessage] = []
    issued: set[str] = set()
    for index, message in enumerate(messages):
        if message.role in ("system", "developer"):
            system.append(message.text())
        elif message.role == "assistant":
            calls = [call.model_dump() for call in message.tool_calls or []]
            issued |= {call["id"] for call in calls}
            turns.append(PromptMessage("assistant", message.text(), tool_calls=calls or None))
        elif message.role == "tool":
            if not message.tool_call_id or message.tool_call_id not in issued:
                raise InvalidRequest(
                    "A message with role 'tool' must answer a tool call of an earlier assistant message "
                    f"(tool_call_id {message.tool_call_id!r} names none).",
                    code="unknown_tool_call",
                    param=f"messages[{index}].tool_call_id",
                )
            turns.append(PromptMessage("tool", message.text(), tool_call_id=message.tool_call_id))
        else:
            turns.append(PromptMessage("user", message.text()))
    if not turns:
        raise InvalidRequest("The messages hold no user turn to answer.", param="messages")
    return system, turns


def _refuse_what_parley_cannot_honour(request: ChatCompletionRequest) -> None:
    """As OpenAI answers a parameter a model cannot take: a 400 naming it."""
    unsupported = {
        "n": request.n not in (None, 1),
        "logprobs": bool(request.logprobs),
        "top_logprobs": bool(request.top_logprobs),
        "logit_bias": bool(request.logit_bias),
        "presence_penalty": bool(request.presence_penalty),
        "frequency_penalty": bool(request.frequency_penalty),
    }
    for name, refused in unsupported.items():
        if refused:
            raise InvalidRequest(
                f"'{name}' is not supported by this deployment (only its default value).",
                code="unsupported_parameter",
                param=name,
            )
    wanted = request.response_format
    if wanted is not None and wanted.type == "json_schema" and wanted.json_schema is None:
        raise InvalidRequest(
            "response_format of type json_schema needs 'json_schema'.",
            param="response_format.json_schema",
        )
    if wanted is not None and wanted.json_schema is not None and wanted.json_schema.schema_ is not None:
        check_json_schema(wanted.json_schema.schema_, "response_format.json_schema.schema")


def _check_tool_choice(request: ChatCompletionRequest, tools: list[dict[str, Any]] | None) -> None:
    if request.tool_choice is None:
        return
    if not tools:
        raise InvalidRequest("'tool_choice' is only allowed when 'tools' are specified.", param="tool_choice")
    named = chosen_name(request.tool_choice)
    if named is not None and named not in {t["function"]["name"] for t in tools}:
        raise InvalidRequest(f"tool_choice names '{named}', which is not in tools.", param="tool_choice")


def _dumped(choice: ToolChoice | None) -> str | dict[str, Any] | None:
    return choice.model_dump() if isinstance(choice, NamedToolChoice) else choice
