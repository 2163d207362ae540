"""Anthropic Messages through the official SDK: the system prompt goes apart, consecutive turns of
one role are merged, tool calls and results become content blocks, and `max_tokens` is always
sent. Imported only when a Claude model is used."""

from __future__ import annotations

import json
from typing import Any, cast

import anthropic

from parley.models.domain import TokenUsage
from parley.providers.base import ChatRequest, Completion, FinishReason, PromptMessage
from parley.providers.deadline import http_client as deadline_bound_client
from parley.providers.faults import malformed_response, translate

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
        system, turns = to_anthropic_turns(request)
        options: dict[str, Any] = {}
        if system:
            options["system"] = system
        if request.temperature is not None:
            options["temperature"] = min(request.temperature, 1.0)  # Anthropic's range is 0..1
        try:
            response = self.client.messages.create(
                model=request.model,
                max_tokens=request.max_tokens or _DEFAULT_MAX_TOKENS,
                messages=cast(Any, turns),
                **options,
            )
        except anthropic.AnthropicError as error:
            raise translate(error, anthropic, "Anthropic", "ANTHROPIC_API_KEY") from error
        try:
            return self._completion(response)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
            raise malformed_response("Anthropic", error) from error

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
        # Cached prompt tokens are still prompt tokens (billed at other rates, but read by the model).
        prompt = (
            usage.input_tokens
            + (usage.cache_creation_input_tokens or 0)
            + (usage.cache_read_input_tokens or 0)
        )
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
            metadata={"provider": self.name, "provider_response_id": response.id},
        )


def to_anthropic_turns(request: ChatRequest) -> tuple[str, list[dict[str, Any]]]:
    """(system, turns): `system` messages of the history join the system prompt; the turns start
    with a user turn and alternate, as the Messages API requires."""
    system_parts = [request.system_prompt] if request.system_prompt else []
    turns: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            system_parts.append(message.content)
            continue
        role = "assistant" if message.role == "assistant" else "user"  # tool results travel in user turns
        blocks = _blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    while turns and turns[0]["role"] != "user":
        turns.pop(0)
    return "\n\n".join(system_parts), turns


def _blocks(message: PromptMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {"type": "tool_result", "tool_use_id": message.tool_call_id or "", "content": message.content}
        ]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
    for call in message.tool_calls or [] if message.role == "assistant" else []:
        function = call.get("function", {})
        arguments = function.get("arguments") or "{}"
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id", ""),
                "name": function.get("name", ""),
                "input": json.loads(arguments) if isinstance(arguments, str) else arguments,
            }
        )
    return blocks
