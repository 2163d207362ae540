"""Anthropic's Messages API on Parley (docs/anthropic.md): a Messages request is read as the Chat
Completions request it means and answered by the same use case (parley.logic.openai_chat: models
and `assistant:<id>`, budgets, usage, MCP tools), then written back in Anthropic's shape. Text,
tool calls (`tool_use`) and their results (`tool_result`) map one to one."""

from __future__ import annotations

import json
from typing import Any

from parley.auth.principal import AI_CHAT, Principal
from parley.config import Settings
from parley.errors import InvalidRequest, ModelNotFound, UnknownModel
from parley.logic.generation import Generator, Listener
from parley.logic.openai_chat import chat_completion, completion_request
from parley.logic.prompt import message_tokens
from parley.models.api.anthropic import (
    AnthropicMessage,
    AnthropicTool,
    AnthropicToolChoice,
    CountTokensRequest,
    InputMessage,
    MessagesRequest,
    MessageUsage,
    OutputText,
    OutputToolUse,
    StopReason,
    TextBlock,
    TokenCount,
    ToolResultBlock,
    ToolUseBlock,
    UnsupportedBlock,
    message_id,
)
from parley.models.api.openai import ChatCompletion, ChatCompletionRequest
from parley.providers.base import PromptMessage
from parley.providers.registry import model_spec
from parley.rag.retrieval import Retriever
from parley.sealing import Sealer
from parley.store.catalog import CatalogStore
from parley.store.connections import ConnectionStore
from parley.tokens import estimate_tokens

STOP_REASONS: dict[str, StopReason] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}


def create_message(
    principal: Principal,
    request: MessagesRequest,
    brand_header: str | None = None,
    *,
    catalog: CatalogStore,
    generator: Generator,
    retrieve: Retriever,
    config: Settings,
    listener: Listener | None = None,
    sealer: Sealer | None = None,
    connections: ConnectionStore | None = None,
) -> AnthropicMessage:
    """The answer to a Messages request, as `/v1/chat/completions` answers what it means."""
    answer = chat_completion(
        principal,
        as_chat_completion(request, config),
        brand_header,
        catalog=catalog,
        generator=generator,
        retrieve=retrieve,
        config=config,
        listener=listener,
        sealer=sealer,
        connections=connections,
    )
    return as_message(answer)


def as_chat_completion(request: MessagesRequest, config: Settings) -> ChatCompletionRequest:
    """The Chat Completions request a Messages request means; a 400 naming what cannot map."""
    if request.top_k is not None:
        raise InvalidRequest(
            "top_k is not supported by this deployment.", code="unsupported_parameter", param="top_k"
        )
    body: dict[str, Any] = {
        "model": request.model,
        "messages": _messages(request.system, request.messages),
        "max_tokens": _budget(request.model, request.max_tokens, config),
    }
    if request.tools:
        body["tools"] = [_function(tool) for tool in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = _choice(request.tool_choice)
    if request.tool_choice is not None and request.tool_choice.disable_parallel_tool_use:
        body["parallel_tool_calls"] = False
    for name in ("temperature", "top_p"):
        if getattr(request, name) is not None:
            body[name] = getattr(request, name)
    if request.stop_sequences:
        body["stop"] = request.stop_sequences
    if request.stream:
        body["stream"] = True
    return completion_request(body)


def as_message(answer: ChatCompletion) -> AnthropicMessage:
    """The Chat Completions answer in Anthropic's shape."""
    choice = answer.choices[0]
    content: list[OutputText | OutputToolUse] = []
    if choice.message.content:
        content.append(OutputText(text=choice.message.content))
    for call in choice.message.tool_calls or []:
        content.append(
            OutputToolUse(id=call.id, name=call.function.name, input=_arguments(call.function.arguments))
        )
    usage = answer.usage
    cached = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else 0
    return AnthropicMessage(
        id=message_id(answer.id),
        model=answer.model,
        content=content,
        stop_reason=STOP_REASONS.get(choice.finish_reason, "end_turn"),
        usage=MessageUsage(
            input_tokens=usage.prompt_tokens - (cached or 0),
            output_tokens=usage.completion_tokens,
            cache_read_input_tokens=cached or 0,
            cache_creation_input_tokens=0,
        ),
    )


def count_tokens(principal: Principal, request: CountTokensRequest, config: Settings) -> TokenCount:
    """The input tokens of a Messages request, as Parley counts them for its context window
    (parley.tokens: an estimate that errs on the high side, not the provider's tokenizer)."""
    principal.require(AI_CHAT)
    if not request.model.startswith("assistant:"):
        try:
            model_spec(request.model, config)
        except UnknownModel as unknown:
            raise ModelNotFound(request.model, unknown.endpoint_models) from None
    turns = [
        PromptMessage(turn["role"], turn.get("content") or "", turn.get("tool_calls"))
        for turn in _messages(request.system, request.messages)
    ]
    tools = json.dumps([tool.model_dump(exclude_none=True) for tool in request.tools or []])
    text = sum(message_tokens(turn) for turn in turns)
    return TokenCount(input_tokens=text + (estimate_tokens(tools) if request.tools else 0))


def _messages(system: str | list[TextBlock] | None, messages: list[InputMessage]) -> list[dict[str, Any]]:
    """Anthropic's turns as OpenAI's messages: the system prompt first; an assistant turn's text
    and `tool_use` blocks one message with `tool_calls`; a user turn's `tool_result`s `tool`
    messages, before its text."""
    out: list[dict[str, Any]] = []
    system_text = system if isinstance(system, str) else "".join(block.text for block in system or [])
    if system_text:
        out.append({"role": "system", "content": system_text})
    for index, message in enumerate(messages):
        if isinstance(message.content, str):
            out.append({"role": message.role, "content": message.content})
            continue
        text = "".join(block.text for block in message.content if isinstance(block, TextBlock))
        for position, block in enumerate(message.content):
            if isinstance(block, UnsupportedBlock):
                raise InvalidRequest(
                    f"messages.{index}.content.{position}: '{block.type}' blocks are not supported by this "
                    "deployment (text, tool_use and tool_result are).",
                    code="unsupported_content",
                    param=f"messages.{index}.content.{position}",
                )
        if message.role == "system":
            out.append({"role": "system", "content": text})
            continue
        if message.role == "assistant":
            calls = [
                {
                    "id": b.id,
                    "type": "function",
                    "function": {"name": b.name, "arguments": json.dumps(b.input)},
                }
                for b in message.content
                if isinstance(b, ToolUseBlock)
            ]
            out.append(
                {"role": "assistant", "content": text or None, **({"tool_calls": calls} if calls else {})}
            )
            continue
        for block in message.content:
            if isinstance(block, ToolResultBlock):
                result = ("Error: " if block.is_error else "") + block.text()
                out.append({"role": "tool", "tool_call_id": block.tool_use_id, "content": result})
        if text:
            out.append({"role": "user", "content": text})
    return out


def _budget(model: str, max_tokens: int, config: Settings) -> int:
    """`max_tokens`, within what the model can write at most: agents (Claude Code) ask for the
    largest budget any Claude model has, whatever model they are pointed at."""
    try:
        return min(max_tokens, model_spec(model, config).max_output_tokens)
    except UnknownModel:
        return max_tokens  # an assistant's model, or an unknown one, refused by the use case


def _function(tool: AnthropicTool) -> dict[str, Any]:
    function: dict[str, Any] = {
        "name": tool.name,
        "parameters": tool.input_schema.model_dump(exclude_none=True),
    }
    if tool.description:
        function["description"] = tool.description[:1024]
    return {"type": "function", "function": function}


def _choice(choice: AnthropicToolChoice) -> str | dict[str, Any]:
    if choice.type == "tool":
        if not choice.name:
            raise InvalidRequest("tool_choice of type 'tool' needs 'name'.", param="tool_choice.name")
        return {"type": "function", "function": {"name": choice.name}}
    return {"auto": "auto", "any": "required", "none": "none"}[choice.type]


def _arguments(arguments: str) -> Any:
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
