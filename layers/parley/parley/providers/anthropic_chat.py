"""Anthropic Messages through the official SDK: the system prompt goes apart, consecutive turns of
one role are merged, tool calls and results become content blocks, and `max_tokens` is always
sent. Imported only when a Claude model is used."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import anthropic
import httpx2

from parley.models.domain import TokenUsage
from parley.observability import logger
from parley.providers.base import ChatRequest, Completion, Delta, FinishReason, PromptMessage
from parley.providers.deadline import http_client as deadline_bound_client
from parley.providers.faults import malformed_response, stream_cut, translate
from parley.providers.turns import alternating_turns, tool_calls_of

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
_DEFAULT_MAX_TOKENS = 4096
_EPHEMERAL = {"type": "ephemeral"}


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, client: anthropic.Anthropic) -> None:
        self.client = client

    @classmethod
    def create(
        cls, api_key: str, base_url: str | None, timeout: float, max_retries: int
    ) -> AnthropicProvider:
        return cls(
            anthropic.Anthropic(
                api_key=api_key,
                base_url=base_url,
                timeout=timeout,
                max_retries=max_retries,
                http_client=deadline_bound_client(),
            )
        )

    def complete(self, request: ChatRequest) -> Completion:
        try:
            response = self.client.messages.create(**_accepted(_arguments(request)))
        except anthropic.AnthropicError as error:
            raise translate(error, anthropic, "Anthropic", "ANTHROPIC_API_KEY") from error
        try:
            return self._completion(response)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
            raise malformed_response("Anthropic", error) from error

    def stream(self, request: ChatRequest) -> Iterator[Delta | Completion]:
        """Messages with `stream: true`: text and tool-input deltas per content block; the input
        tokens come in `message_start`, the output tokens and stop reason in `message_delta`.
        Tool calls are passed on in OpenAI's delta shape, numbered in order."""
        text: list[str] = []
        calls: list[dict[str, Any]] = []
        block_call: dict[int, int] = {}  # content block index -> tool call number
        stop, prompt, output, model, response_id = None, 0, 0, request.model, None
        detail: dict[str, int] = {}
        ended = False
        try:
            for event in self.client.messages.create(**_accepted(_arguments(request)), stream=True):
                if event.type == "message_start":
                    message = event.message
                    model, response_id = message.model, message.id
                    prompt = _prompt_tokens(message.usage)
                    output = message.usage.output_tokens or 0
                    detail = _cache_detail(message.usage)
                elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                    block_call[event.index] = len(calls)
                    block = event.content_block
                    calls.append(
                        {
                            "id": block.id,
                            "type": "function",
                            "function": {"name": block.name, "arguments": ""},
                        }
                    )
                    yield Delta(tool_calls=[{"index": len(calls) - 1, **calls[-1]}])
                elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                    text.append(event.delta.text)
                    yield Delta(content=event.delta.text)
                elif event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                    number = block_call[event.index]
                    calls[number]["function"]["arguments"] += event.delta.partial_json
                    yield Delta(
                        tool_calls=[{"index": number, "function": {"arguments": event.delta.partial_json}}]
                    )
                elif event.type == "message_delta":
                    stop = event.delta.stop_reason or stop
                    output = event.usage.output_tokens or output
                elif event.type == "message_stop":
                    ended = True
        except anthropic.AnthropicError as error:
            raise translate(error, anthropic, "Anthropic", "ANTHROPIC_API_KEY") from error
        except httpx2.TransportError as error:  # the SDK leaves a reset mid-stream unwrapped
            raise stream_cut("Anthropic", error) from error
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
            raise malformed_response("Anthropic", error) from error
        if not ended:
            raise stream_cut("Anthropic")
        for call in calls:
            call["function"]["arguments"] = call["function"]["arguments"] or "{}"
        yield Completion(
            content="".join(text),
            finish_reason=_FINISH.get(stop or "end_turn", "stop"),
            usage=TokenUsage(prompt_tokens=prompt, completion_tokens=output, total_tokens=prompt + output),
            model=model,
            tool_calls=calls or None,
            metadata={"provider": self.name, "provider_response_id": response_id, **detail},
        )

    def _completion(self, response: Any) -> Completion:
        text = "".join(block.text for block in response.content if block.type == "text")
        tool_calls = [
            {
                "id": block.id,
                "type": "function",
                "function": {"name": block.name, "arguments": json.dumps(block.input)},
            }
            for block in response.content
            if block.type == "tool_use"
        ]
        usage = response.usage
        prompt = _prompt_tokens(usage)
        return Completion(
            content=text,
            finish_reason=_FINISH.get(response.stop_reason or "end_turn", "stop"),
            usage=TokenUsage(
                prompt_tokens=prompt,
                completion_tokens=usage.output_tokens,
                total_tokens=prompt + usage.output_tokens,
            ),
            model=response.model,
            tool_calls=tool_calls or None,
            metadata={"provider": self.name, "provider_response_id": response.id, **_cache_detail(usage)},
        )


def _arguments(request: ChatRequest) -> dict[str, Any]:
    system, turns = to_anthropic_turns(request)
    arguments: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens or _DEFAULT_MAX_TOKENS,
        "messages": turns,
    }
    # Prompt caching: breakpoints after the system prompt, the tools and the conversation so far,
    # so the next turn reads them from the cache (Anthropic caches a prefix from 1,024 tokens on;
    # shorter ones are simply not cached).
    if turns and turns[-1]["content"]:
        turns[-1]["content"][-1] = {**turns[-1]["content"][-1], "cache_control": _EPHEMERAL}
    if system:
        arguments["system"] = [{"type": "text", "text": system, "cache_control": _EPHEMERAL}]
    if request.temperature is not None:
        arguments["temperature"] = min(request.temperature, 1.0)  # Anthropic's range is 0..1
    if request.top_p is not None:
        arguments["top_p"] = request.top_p
    if request.stop:
        arguments["stop_sequences"] = request.stop
    if request.tools:
        arguments["tools"] = [
            {
                "name": tool["function"]["name"],
                **({"description": d} if (d := tool["function"].get("description")) else {}),
                "input_schema": tool["function"].get("parameters") or {"type": "object", "properties": {}},
            }
            for tool in request.tools
        ]
        arguments["tools"][-1]["cache_control"] = _EPHEMERAL
        if request.tool_choice is not None:
            arguments["tool_choice"] = _tool_choice(request.tool_choice)
    return arguments


@cache
def accepted_arguments() -> frozenset[str]:
    """The keyword arguments the installed SDK's `messages.create` takes. SDK releases drop
    sampling options (2.x takes no `temperature` or `top_p`); passing one is a TypeError."""
    parameters = inspect.signature(anthropic.resources.messages.Messages.create).parameters
    return frozenset(name for name in parameters if name != "self")


def _accepted(arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments the SDK takes; the others (sampling options it no longer has) are left out,
    which the Messages API reads as the model's defaults."""
    taken = accepted_arguments()
    dropped = sorted(name for name in arguments if name not in taken)
    if dropped:
        logger.debug("options the Anthropic SDK does not take", extra={"dropped": dropped})
    return {name: value for name, value in arguments.items() if name in taken}


def _tool_choice(choice: str | dict[str, Any]) -> dict[str, Any]:
    """OpenAI's tool_choice in Anthropic's terms ("required" is Anthropic's "any")."""
    if isinstance(choice, dict):
        return {"type": "tool", "name": choice["function"]["name"]}
    return {"type": {"auto": "auto", "required": "any", "none": "none"}[choice]}


def _cache_detail(usage: Any) -> dict[str, int]:
    """The prompt tokens read from and written to the cache, when there were any."""
    detail = {
        "cached_tokens": int(getattr(usage, "cache_read_input_tokens", 0) or 0),
        "cache_write_tokens": int(getattr(usage, "cache_creation_input_tokens", 0) or 0),
    }
    return {name: count for name, count in detail.items() if count}


def _prompt_tokens(usage: Any) -> int:
    """Cached prompt tokens are still prompt tokens (billed at other rates, but read by the model)."""
    return int(
        usage.input_tokens + (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
    )


def to_anthropic_turns(request: ChatRequest) -> tuple[str, list[dict[str, Any]]]:
    """(system, turns) as the Messages API requires them."""
    return alternating_turns(request, _blocks)


def _blocks(message: PromptMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {"type": "tool_result", "tool_use_id": message.tool_call_id or "", "content": message.content}
        ]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
    blocks += [
        {"type": "tool_use", "id": call_id, "name": name, "input": arguments}
        for call_id, name, arguments in tool_calls_of(message)
    ]
    return blocks
