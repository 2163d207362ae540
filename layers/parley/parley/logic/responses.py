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
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from parley.auth.principal import AI_CHAT, Principal
from parley.config import Settings
from parley.errors import InvalidRequest, NotFound, UnknownModel
from parley.ids import created_at, uuid7
from parley.logic.completion import Branching
from parley.logic.generation import Generator, Listener
from parley.logic.openai_chat import ASSISTANT_PREFIX, chat_completion, metered_brand
from parley.models.api.openai import ChatCompletion, ChatCompletionRequest
from parley.models.api.responses import (
    RESPONSE_PREFIX,
    AnyTool,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    DeletedResponse,
    FunctionCallItem,
    FunctionCallOutputItem,
    FunctionTool,
    InputItem,
    InputItemList,
    InputMessageItem,
    NamespaceTool,
    ReasoningItem,
    Response,
    ResponseRequest,
    ResponseUsage,
)
from parley.models.api.tools import McpTool
from parley.models.domain import Conversation, Message, TokenUsage, timestamp
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
MAX_DESCRIPTION = 1024  # of a tool's description, what every provider takes


class ResponseNotFound(NotFound):
    code = "response_not_found"

    def __init__(self, response_id: str, param: str | None = None) -> None:
        super().__init__(f"Response with id '{response_id}' not found.")
        self.param = param


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
) -> Response:
    principal.require(AI_CHAT)
    if request.background:
        raise InvalidRequest(
            "background is not supported by this deployment yet: ask without it (streamed, if long).",
            code="unsupported_parameter",
            param="background",
        )
    brand_id = metered_brand(principal, brand_header)
    items = [_plain(item) for item in request.items() if not isinstance(item, ReasoningItem)]
    turns = None
    history: list[Message] = []
    conversation: Conversation | None = None
    if request.previous_response_id is not None:
        previous = _owned(stores.responses, request.previous_response_id, principal, "previous_response_id")
        conversation = stores.conversations.get(previous.conversation_id)
        if conversation is None or conversation.user_id != principal.user_id:
            raise ResponseNotFound(request.previous_response_id, "previous_response_id")
        turns = Branching(stores.conversations, stores.branches, conversation, config).turns_under(
            previous.message_id
        )
        history = turns.history
    conversation_id = conversation.id if conversation is not None else str(uuid7())
    new = [_message(conversation_id, item) for item in items]  # made now: their ids sort before the answer's
    answer_id = uuid7()
    response_id = RESPONSE_PREFIX + answer_id.hex
    created = int(created_at(answer_id).timestamp())
    skeleton = _skeleton(request, response_id, created)
    announce = getattr(listener, "announce", None)
    if announce is not None:
        announce(skeleton.model_dump())
    answer = chat_completion(
        principal,
        _chat_request(request, history, items),
        brand_header,
        catalog=stores.catalog,
        generator=generator,
        retrieve=retrieve,
        config=config,
        listener=listener,
        sealer=sealer,
        connections=stores.connections,
    )
    response = skeleton.model_copy(
        update={
            "status": "completed",
            "model": answer.model,
            "output": _output(answer, answer_id.hex),
            "usage": _usage(answer),
        }
    )
    if not request.store:
        return response
    if conversation is None:
        conversation = _new_conversation(
            conversation_id, principal, brand_id, model=request.model, config=config
        )
        stores.conversations.create(conversation)
        turns = Branching(stores.conversations, stores.branches, conversation, config).turns_under(
            None, reading=False
        )
    assert turns is not None
    parent = history[-1].id if history else None
    for message in new:
        message.parent_id, parent = parent, message.id
    reply = _assistant_message(conversation_id, answer, str(answer_id), created, response_id)
    reply.parent_id = parent
    turns.store([*new, reply], None)
    response = response.model_copy(update={"conversation_id": conversation_id})
    listed = [_listed(item, uuid_hex(m.id)) for m, item in zip(new, items, strict=True)]
    stores.responses.put(
        StoredResponse(response, principal.user_id, brand_id, conversation_id, str(answer_id), listed)
    )
    return response


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


Plain = InputMessageItem | FunctionCallItem | FunctionCallOutputItem


def _plain(item: InputItem) -> Plain:
    """An input item as one of the three kinds a conversation holds: a free-form tool's call and
    output (Codex's) as a function call and its output."""
    if isinstance(item, CustomToolCallItem):
        return FunctionCallItem(
            type="function_call", call_id=item.call_id, name=item.name, arguments=item.input
        )
    if isinstance(item, CustomToolCallOutputItem):
        return FunctionCallOutputItem(type="function_call_output", call_id=item.call_id, output=item.output)
    assert not isinstance(item, ReasoningItem)
    return item


def _listed(item: Plain, suffix: str) -> dict[str, Any]:
    """An input item as GET .../input_items lists it, in OpenAI's item shape."""
    if isinstance(item, FunctionCallOutputItem):
        return {
            "type": "function_call_output",
            "id": f"fco_{suffix}",
            "call_id": item.call_id,
            "output": item.output,
            "status": "completed",
        }
    if isinstance(item, FunctionCallItem):
        return {
            "type": "function_call",
            "id": f"fc_{suffix}",
            "call_id": item.call_id,
            "name": item.name,
            "arguments": item.arguments,
            "status": "completed",
        }
    kind = "output_text" if item.role == "assistant" else "input_text"
    return {
        "type": "message",
        "id": f"msg_{suffix}",
        "role": item.role,
        "status": "completed",
        "content": [{"type": kind, "text": item.text()}],
    }


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


def _skeleton(request: ResponseRequest, response_id: str, created: int) -> Response:
    text_format = request.text.format if request.text and request.text.format else None
    return Response(
        id=response_id,
        created_at=created,
        status="in_progress",
        instructions=request.instructions,
        max_output_tokens=request.max_output_tokens,
        model=request.model,
        output=[],
        parallel_tool_calls=request.parallel_tool_calls is not False,
        previous_response_id=request.previous_response_id,
        store=request.store,
        temperature=request.temperature,
        text={"format": text_format.model_dump(by_alias=True, exclude_none=True)}
        if text_format
        else {"format": {"type": "text"}},
        tool_choice=request.tool_choice.model_dump()
        if request.tool_choice is not None and not isinstance(request.tool_choice, str)
        else request.tool_choice or "auto",
        tools=[_shown_tool(tool) for tool in request.tools or []],
        top_p=request.top_p,
        metadata=request.metadata or {},
    )


def _shown_tool(tool: AnyTool) -> dict[str, Any]:
    """A tool as the response echoes it: an MCP server's credentials never."""
    if isinstance(tool, McpTool):
        return tool.model_dump(exclude={"headers", "authorization"}, exclude_none=True)
    return tool.model_dump(exclude_none=True)


def _chat_request(
    request: ResponseRequest, history: list[Message], items: list[Plain]
) -> ChatCompletionRequest:
    """The Chat Completions request the response means: the instructions (this response's only,
    as OpenAI's), the turns it continues, then its input items."""
    messages: list[dict[str, Any]] = []
    if request.instructions:
        messages.append({"role": "system", "content": request.instructions})
    for message in history:
        messages.append(_chat_message(message))
    for item in items:
        messages.append(_item_message(item))
    body: dict[str, Any] = {"model": request.model, "messages": _merged_calls(messages)}
    if offered := _offered(request.tools or []):
        body["tools"] = offered
    if request.tool_choice is not None:
        choice = request.tool_choice
        body["tool_choice"] = (
            choice if isinstance(choice, str) else {"type": "function", "function": {"name": choice.name}}
        )
    if request.text and request.text.format and request.text.format.type != "text":
        wanted = request.text.format
        body["response_format"] = (
            {"type": "json_object"}
            if wanted.type == "json_object"
            else {
                "type": "json_schema",
                "json_schema": {
                    "name": wanted.name or "response",
                    "schema": wanted.schema_ or {"type": "object"},
                    **({"description": wanted.description} if wanted.description else {}),
                    **({"strict": wanted.strict} if wanted.strict is not None else {}),
                },
            }
        )
    for name, value in (
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("max_completion_tokens", request.max_output_tokens),
        ("parallel_tool_calls", request.parallel_tool_calls),
        ("stream", True if request.stream else None),
    ):
        if value is not None:
            body[name] = value
    try:
        return ChatCompletionRequest.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise InvalidRequest(f"Invalid request: {where}: {first.get('msg', 'is invalid')}.") from None


def _offered(tools: list[AnyTool]) -> list[dict[str, Any]]:
    """The tools as Chat Completions takes them: function tools (a namespace's too) and MCP
    servers; hosted tools, which Parley does not run, left out."""
    offered: list[dict[str, Any]] = []
    for tool in tools:
        functions = (
            [tool]
            if isinstance(tool, FunctionTool)
            else tool.tools
            if isinstance(tool, NamespaceTool)
            else []
        )
        for function in functions:
            dumped = function.model_dump(exclude={"type", "strict"}, exclude_none=True)
            if function.description:
                dumped["description"] = function.description[:MAX_DESCRIPTION]
            offered.append({"type": "function", "function": dumped})
        if isinstance(tool, McpTool):
            offered.append(tool.model_dump(exclude_none=True))
    return offered


def _chat_message(message: Message) -> dict[str, Any]:
    chat: dict[str, Any] = {"role": message.role, "content": message.content}
    calls = [call for call in message.tool_calls or [] if call.get("type", "function") == "function"]
    if message.role == "assistant" and calls:
        chat["tool_calls"] = calls
        chat["content"] = message.content or None
    if message.role == "tool":
        chat["tool_call_id"] = message.metadata.get("tool_call_id")
    return chat


def _item_message(item: Plain) -> dict[str, Any]:
    if isinstance(item, FunctionCallOutputItem):
        return {"role": "tool", "tool_call_id": item.call_id, "content": item.output}
    if isinstance(item, FunctionCallItem):
        call = {
            "id": item.call_id,
            "type": "function",
            "function": {"name": item.name, "arguments": item.arguments},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"role": item.role, "content": item.text()}


def _merged_calls(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive function calls (one assistant turn's parallel calls, sent as items) as one
    assistant message, as Chat Completions has them."""
    merged: list[dict[str, Any]] = []
    for message in messages:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and message["role"] == "assistant"
            and message.get("tool_calls")
            and previous["role"] == "assistant"
            and previous.get("tool_calls")
            and not message.get("content")
        ):
            previous["tool_calls"] = [*previous["tool_calls"], *message["tool_calls"]]
            continue
        merged.append(dict(message))
    return merged


def _message(conversation_id: str, item: Plain) -> Message:
    """An input item as the conversation's new message."""
    if isinstance(item, FunctionCallOutputItem):
        return Message.new(conversation_id, "tool", item.output, metadata={"tool_call_id": item.call_id})
    if isinstance(item, FunctionCallItem):
        call = {
            "id": item.call_id,
            "type": "function",
            "function": {"name": item.name, "arguments": item.arguments},
        }
        return Message.new(conversation_id, "assistant", "", tool_calls=[call])
    role = "system" if item.role == "developer" else item.role
    return Message.new(conversation_id, role, item.text())


def _assistant_message(
    conversation_id: str, answer: ChatCompletion, identifier: str, created: int, response_id: str
) -> Message:
    choice = answer.choices[0]
    usage = answer.usage
    return Message(
        id=identifier,
        conversation_id=conversation_id,
        role="assistant",
        content=choice.message.content or "",
        tool_calls=[call.model_dump() for call in choice.message.tool_calls]
        if choice.message.tool_calls
        else None,
        token_usage=TokenUsage(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
        ),
        metadata={
            "model": answer.model,
            "finish_reason": choice.finish_reason,
            "response_id": response_id,
            **({"tool_runs": choice.message.tool_runs} if choice.message.tool_runs else {}),
        },
        created_at=timestamp(created_at(_uuid(identifier))),
    )


def _uuid(identifier: str) -> uuid.UUID:
    return uuid.UUID(identifier)


def _output(answer: ChatCompletion, suffix: str) -> list[dict[str, Any]]:
    """The answer as output items: its text a `message`, each tool call a `function_call`."""
    message = answer.choices[0].message
    output: list[dict[str, Any]] = []
    if message.content:
        output.append(
            {
                "type": "message",
                "id": f"msg_{suffix}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": message.content, "annotations": []}],
            }
        )
    for position, call in enumerate(message.tool_calls or []):
        output.append(
            {
                "type": "function_call",
                "id": f"fc_{suffix}_{position}",
                "call_id": call.id,
                "name": call.function.name,
                "arguments": call.function.arguments,
                "status": "completed",
            }
        )
    return output


def _usage(answer: ChatCompletion) -> ResponseUsage:
    usage = answer.usage
    return ResponseUsage.model_validate(
        {
            "input_tokens": usage.prompt_tokens,
            "input_tokens_details": {
                "cached_tokens": usage.prompt_tokens_details.cached_tokens
                if usage.prompt_tokens_details
                else 0
            },
            "output_tokens": usage.completion_tokens,
            "output_tokens_details": {
                "reasoning_tokens": usage.completion_tokens_details.reasoning_tokens
                if usage.completion_tokens_details
                else 0
            },
            "total_tokens": usage.total_tokens,
        }
    )


def _new_conversation(
    conversation_id: str, principal: Principal, brand_id: str | None, *, model: str, config: Settings
) -> Conversation:
    """The conversation a first stored response starts: the caller's, in the metered brand, on
    the requested model (an assistant's answers are the assistant's: the default model here)."""
    try:
        spec_id = model_spec(model).id if not model.startswith(ASSISTANT_PREFIX) else default_model(config)
    except UnknownModel:
        spec_id = default_model(config)
    now = timestamp(created_at(_uuid(conversation_id)))
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
