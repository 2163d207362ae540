"""OpenAI's Responses API on Parley (docs/openai.md). A response is answered by the Chat
Completions use case (parley.logic.openai_chat: models and `assistant:<id>`, budgets, usage,
structured output, MCP tools) over the turns it continues. A stored response (`store`, the
default) is a turn of a Parley conversation: its input items are that conversation's new messages
and its answer the assistant message the response id names, so `previous_response_id` continues
from that message, on any instance, and a fork when it is not its branch's last (the conversation
tree does this). Each stored response keeps a record (parley.store.responses) for GET, DELETE
and its input items."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from parley.auth.principal import AI_CHAT, Principal
from parley.config import Settings
from parley.errors import GenerationCancelled, InvalidRequest, NotFound, UnknownModel
from parley.ids import created_at, uuid7
from parley.logic.after_exchange import after_exchange
from parley.logic.approvals import Stopping, check_approval
from parley.logic.completion import Branching, Turns
from parley.logic.generation import Generator, Listener
from parley.logic.openai_chat import ASSISTANT_PREFIX, chat_completion, metered_brand
from parley.logic.response_input import Plain, chat_request, new_message, plain
from parley.logic.response_output import (
    as_uuid,
    assistant_message,
    listed_item,
    output_items,
    skeleton,
    usage_of,
)
from parley.logic.summaries import Prompt, prompt_for
from parley.models.api.conversations import McpApprovalResponse
from parley.models.api.responses import (
    RESPONSE_PREFIX,
    DeletedResponse,
    InputItemList,
    McpApprovalResponseItem,
    ReasoningItem,
    Response,
    ResponseRequest,
)
from parley.models.approvals import RESULTS
from parley.models.domain import Conversation, Message, timestamp
from parley.providers.credentials import default_model
from parley.providers.registry import model_spec
from parley.rag.retrieval import Retriever
from parley.sealing import Sealer
from parley.store.branch_moves import BranchStore
from parley.store.catalog import CatalogStore
from parley.store.connections import ConnectionStore
from parley.store.conversations import ConversationStore
from parley.store.responses import ResponseStore, StoredResponse

MAX_INPUT_ITEMS_LISTED = 100
APPROVALS = "mcp_approval_response"  # in the metadata of the message that carries them


class ResponseNotFound(NotFound):
    code = "response_not_found"

    def __init__(self, response_id: str, param: str | None = None) -> None:
        super().__init__(f"Response with id '{response_id}' not found.")
        self.param = param


@dataclass(frozen=True)
class Background:
    """How a `background: true` request runs. In the request: `queue(response_id)` hands it to
    the worker (None: this deployment runs none). In the worker: `response_id` is the queued
    response it answers."""

    queue: Callable[[str], None] | None = None
    response_id: str | None = None


@dataclass(frozen=True)
class Stores:
    conversations: ConversationStore
    branches: BranchStore
    responses: ResponseStore
    catalog: CatalogStore
    connections: ConnectionStore | None = None


def create_response(
    principal: Principal,
    request: ResponseRequest,
    brand_header: str | None = None,
    *,
    stores: Stores,
    generator: Generator,
    retrieve: Retriever,
    config: Settings,
    listener: Listener | None = None,
    sealer: Sealer | None = None,
    background: Background = Background(),
) -> Response:
    principal.require(AI_CHAT)
    brand_id = metered_brand(principal, brand_header)
    if request.background and background.response_id is None:
        return _queued(principal, request, brand_id, stores, background, config=config)
    approvals, items = _input(request)
    turns = None
    history: list[Message] = []
    conversation: Conversation | None = None
    if request.previous_response_id is not None:
        previous = _continued(stores.responses, request.previous_response_id, principal)
        conversation = stores.conversations.get(previous.conversation_id)
        if conversation is None or conversation.user_id != principal.user_id:
            raise ResponseNotFound(request.previous_response_id, "previous_response_id")
        turns = Branching(stores.conversations, stores.branches, conversation, config).turns_under(
            previous.message_id
        )
        history = turns.history
    stopping = Stopping(check_approval(approvals, history) if approvals else None)
    conversation_id = conversation.id if conversation is not None else str(uuid7())
    new = _new_messages(conversation_id, items, approvals)
    prompt = (
        _fitted(turns, new, request.model, principal, brand_id, generator=generator, config=config)
        if turns is not None and turns.memory is not None and history
        else Prompt(None, history)
    )
    answer_id = (
        uuid.UUID(background.response_id.removeprefix(RESPONSE_PREFIX)) if background.response_id else uuid7()
    )
    response_id = RESPONSE_PREFIX + answer_id.hex
    created = int(created_at(answer_id).timestamp())
    started = skeleton(request, response_id, created)
    if background.response_id is not None:
        _still_wanted(stores.responses, response_id, starting=True)
    announce = getattr(listener, "announce", None)
    if announce is not None:
        announce(started.model_dump())
    masked: dict[str, str] = {}
    answer = chat_completion(
        principal,
        chat_request(request, prompt.turns, items, summary=prompt.system_prompt),
        brand_header,
        catalog=stores.catalog,
        generator=generator,
        retrieve=retrieve,
        config=config,
        listener=listener,
        sealer=sealer,
        connections=stores.connections,
        stopping=stopping,
        masked=masked,
    )
    for message in new:  # kept as the guardrail masked them, if it did
        message.content = masked.get(message.content, message.content)
    if stopping.answer is not None:
        new[-1].metadata[RESULTS] = stopping.results
    response = started.model_copy(
        update={
            "status": "completed",
            "model": answer.model,
            "output": output_items(answer, answer_id.hex),
            "usage": usage_of(answer),
        }
    )
    if not request.store:
        return response
    if background.response_id is not None:  # cancelled while it ran: its answer is not stored
        _still_wanted(stores.responses, response_id, starting=False)
    if conversation is None:
        conversation = _new_conversation(
            conversation_id, principal, brand_id, model=request.model, config=config
        )
        stores.conversations.create(conversation)
        turns = Branching(stores.conversations, stores.branches, conversation, config).turns_under(
            None, reading=False
        )
    assert turns is not None
    reply = assistant_message(conversation_id, answer, str(answer_id), created, response_id)
    _chained([*new, reply], history[-1].id if history else None)
    turns.store([*new, reply], None)
    if prompt.folded is not None:  # the branch's summary, extended for this prompt
        after_exchange(stores.conversations, conversation_id, reply, None, prompt.folded)
    response = response.model_copy(update={"conversation_id": conversation_id})
    listed = _masked_in(_listed(new, items, approvals), masked)
    stores.responses.put(
        StoredResponse(response, principal.user_id, brand_id, conversation_id, str(answer_id), listed)
    )
    return response


def _chained(messages: list[Message], parent: str | None) -> None:
    """Each message under the one before it, the first under `parent`."""
    for message in messages:
        message.parent_id, parent = parent, message.id


def _new_messages(
    conversation_id: str, items: list[Plain], approvals: list[McpApprovalResponse]
) -> list[Message]:
    """The input items' messages, made before the answer so their ids sort before its; the
    user's answer to a stop, if any, as a message of its own."""
    new = [new_message(conversation_id, item) for item in items]
    if approvals:
        answers = {APPROVALS: [a.model_dump() for a in approvals]}
        new.append(Message.new(conversation_id, "user", "", metadata=answers))
    return new


def _masked_in(value: Any, masked: dict[str, str]) -> Any:
    """Input items with every text the guardrail masked replaced by its masked form."""
    if isinstance(value, str):
        return masked.get(value, value)
    if isinstance(value, list):
        return [_masked_in(item, masked) for item in value]
    if isinstance(value, dict):
        return {key: _masked_in(item, masked) for key, item in value.items()}
    return value


def _listed(
    new: list[Message], items: list[Plain], approvals: list[McpApprovalResponse]
) -> list[dict[str, Any]]:
    """The input items as `input_items` lists them, with the ids of the messages they became."""
    listed = [listed_item(item, uuid_hex(m.id)) for m, item in zip(new, items, strict=False)]
    return listed + [
        {**answer.model_dump(), "id": f"mcpr_{uuid_hex(new[-1].id)}_{n}"}
        for n, answer in enumerate(approvals)
    ]


def _queued(
    principal: Principal,
    request: ResponseRequest,
    brand_id: str | None,
    stores: Stores,
    background: Background,
    *,
    config: Settings,
) -> Response:
    """A background request: checked, kept as a `queued` response, and handed to the worker,
    which answers it as this response (GET it, or `?stream=true` for its events)."""
    if background.queue is None:
        raise InvalidRequest(
            "background is not enabled on this deployment: ask without it (streamed, if long).",
            code="unsupported_parameter",
            param="background",
        )
    if request.stream:
        raise InvalidRequest(
            "A background response is streamed by GET /v1/responses/{id}?stream=true: ask without stream.",
            code="unsupported_parameter",
            param="stream",
        )
    if not request.store:
        raise InvalidRequest("A background response must be stored (store: true).", param="store")
    if not request.model.startswith(ASSISTANT_PREFIX):
        model_spec(request.model, config)  # an unknown model is a 400 now, not a failed response later
    if request.previous_response_id is not None:
        _continued(stores.responses, request.previous_response_id, principal)
    answer_id = uuid7()
    response_id = RESPONSE_PREFIX + answer_id.hex
    queued = skeleton(request, response_id, int(created_at(answer_id).timestamp()))
    queued = queued.model_copy(update={"status": "queued"})
    stores.responses.put(StoredResponse(queued, principal.user_id, brand_id, "", str(answer_id), []))
    background.queue(response_id)
    return queued


def _still_wanted(responses: ResponseStore, response_id: str, *, starting: bool) -> None:
    """A background response the worker answers: `in_progress` once it starts; one cancelled
    (before it started, or while it ran) goes no further."""
    stored = responses.get(response_id)
    if stored is None or stored.response.status == "cancelled":
        raise GenerationCancelled()
    if starting and stored.response.status == "queued":
        running = stored.response.model_copy(update={"status": "in_progress"})
        responses.put(StoredResponse(running, stored.owner, stored.brand_id, "", stored.message_id, []))


def end_background(responses: ResponseStore, response_id: str, status: str, error: dict[str, Any]) -> None:
    """A background response that ended without an answer: `failed` with its error, or
    `cancelled`; one already answered (or cancelled) is left as it is."""
    stored = responses.get(response_id)
    if stored is None or stored.response.status not in ("queued", "in_progress"):
        return
    ended = stored.response.model_copy(
        update={"status": status, "error": error if status == "failed" else None}
    )
    responses.put(StoredResponse(ended, stored.owner, stored.brand_id, "", stored.message_id, []))


def cancel_response(
    principal: Principal, response_id: str, *, responses: ResponseStore, stop: Callable[[str], object]
) -> Response:
    """Cancel one of the caller's background responses: it stops at its next step and stores no
    answer. Cancelling one already finished changes nothing (its status says how it ended)."""
    principal.require(AI_CHAT)
    stored = _owned(responses, response_id, principal)
    if not stored.response.background:
        raise InvalidRequest(
            "Only a background response can be cancelled; stop a stream with POST /v1/streams/{id}/cancel.",
            param="response_id",
        )
    if stored.response.status not in ("queued", "in_progress"):
        return stored.response
    stop(response_id)
    end_background(responses, response_id, "cancelled", {})
    return stored.response.model_copy(update={"status": "cancelled"})


def get_response(principal: Principal, response_id: str, *, responses: ResponseStore) -> Response:
    principal.require(AI_CHAT)
    return _owned(responses, response_id, principal).response


def delete_response(principal: Principal, response_id: str, *, responses: ResponseStore) -> DeletedResponse:
    """The response's record is deleted; the conversation it is a turn of stays the user's."""
    principal.require(AI_CHAT)
    _owned(responses, response_id, principal)
    responses.delete(response_id)
    return DeletedResponse(id=response_id)


def input_items(principal: Principal, response_id: str, *, responses: ResponseStore) -> InputItemList:
    principal.require(AI_CHAT)
    listed = _owned(responses, response_id, principal).input_items[:MAX_INPUT_ITEMS_LISTED]
    return InputItemList(
        data=listed,
        first_id=listed[0]["id"] if listed else None,
        last_id=listed[-1]["id"] if listed else None,
    )


def uuid_hex(identifier: str) -> str:
    return identifier.replace("-", "")


def _owned(
    responses: ResponseStore, response_id: str, principal: Principal, param: str | None = None
) -> StoredResponse:
    """The caller's stored response; another user's reads as missing."""
    stored = responses.get(response_id) if response_id.startswith(RESPONSE_PREFIX) else None
    if stored is None or stored.owner != principal.user_id:
        raise ResponseNotFound(response_id, param)
    return stored


def _input(request: ResponseRequest) -> tuple[list[McpApprovalResponse], list[Plain]]:
    """The request's answers to approval requests, and its items as a conversation holds them
    (reasoning left out)."""
    approvals = [
        McpApprovalResponse(approval_request_id=i.approval_request_id, approve=i.approve, reason=i.reason)
        for i in request.items()
        if isinstance(i, McpApprovalResponseItem)
    ]
    skipped = ReasoningItem | McpApprovalResponseItem
    return approvals, [plain(item) for item in request.items() if not isinstance(item, skipped)]


def _fitted(
    turns: Turns,
    new: list[Message],
    model: str,
    principal: Principal,
    brand_id: str | None,
    *,
    generator: Generator,
    config: Settings,
) -> Prompt:
    """The turns a continued response's prompt holds before its `new` input, as a conversation's
    reply's: those that no longer fit the model's window beside that input folded into the
    branch's running summary first (one metered generation), which the prompt then carries."""
    spec = model_spec(default_model(config) if model.startswith(ASSISTANT_PREFIX) else model, config)
    assert turns.memory is not None
    generation = generator.open(brand_id, principal)
    prompt = prompt_for(spec, turns.conversation, [*turns.history, *new], turns.memory, generation)
    if prompt.folded is not None:
        generation.settle_alone()
    fresh = {message.id for message in new}
    kept = [turn for turn in prompt.turns if turn.id not in fresh]  # the new input goes in as items
    return replace(prompt, turns=kept)


def _continued(responses: ResponseStore, response_id: str, principal: Principal) -> StoredResponse:
    """The response a `previous_response_id` names: the caller's, and answered."""
    previous = _owned(responses, response_id, principal, "previous_response_id")
    if previous.response.status != "completed":
        raise InvalidRequest(
            f"Response '{response_id}' is {previous.response.status}: only a completed one can be continued.",
            param="previous_response_id",
        )
    return previous


def _new_conversation(
    conversation_id: str, principal: Principal, brand_id: str | None, *, model: str, config: Settings
) -> Conversation:
    """The conversation a first stored response starts: the caller's, in the metered brand, on
    the requested model (an assistant's answers are the assistant's: the default model here)."""
    try:
        spec_id = (
            model_spec(model, config).id if not model.startswith(ASSISTANT_PREFIX) else default_model(config)
        )
    except UnknownModel:
        spec_id = default_model(config)
    now = timestamp(created_at(as_uuid(conversation_id)))
    return Conversation(
        id=conversation_id,
        user_id=principal.user_id,
        brand_id=brand_id,
        title=None,
        model=spec_id,
        system_prompt=None,
        metadata={"created_by": "responses"},
        tools=None,
        assistant_id=None,
        message_count=0,
        created_at=now,
        updated_at=now,
    )
