"""OpenAI Chat Completions through the official SDK. `OPENAI_BASE_URL` points it at any
OpenAI-compatible server (vLLM, Ollama, a proxy), and each of `OPENAI_COMPATIBLE_ENDPOINTS` is
one of these too, under its own name. Imported only when such a model is used."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import openai

from parley.endpoint_config import CompatibleEndpoint
from parley.models.domain import TokenUsage
from parley.providers.base import ChatRequest, Completion, Delta, FinishReason, PromptMessage
from parley.providers.deadline import http_client as deadline_bound_client
from parley.providers.faults import malformed_response, stream_cut, translate

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


REASONING_MODELS = ("gpt-5", "o1", "o3", "o4")


class OpenAIProvider:
    def __init__(
        self,
        client: openai.OpenAI,
        name: str = "openai",
        label: str = "OpenAI",
        key_setting: str = "OPENAI_API_KEY",
        upstream_ids: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.name = name
        self.label = label  # how errors name the server
        self.key_setting = key_setting  # the setting an error about credentials points to
        self.upstream_ids = upstream_ids or {}  # Parley's model id -> the id the server knows

    @classmethod
    def create(cls, api_key: str, base_url: str | None, timeout: float, max_retries: int) -> OpenAIProvider:
        return cls(_client(api_key, base_url, timeout, max_retries))

    @classmethod
    def for_endpoint(
        cls, endpoint: CompatibleEndpoint, api_key: str, timeout: float, max_retries: int
    ) -> OpenAIProvider:
        """An OpenAI-compatible endpoint's provider: its models are sent by the ids it knows."""
        return cls(
            _client(api_key, endpoint.base_url, timeout, max_retries),
            name=endpoint.name,
            label=f"The endpoint '{endpoint.name}'",
            key_setting=f"the api_key of endpoint '{endpoint.name}' in OPENAI_COMPATIBLE_ENDPOINTS",
            upstream_ids={f"{endpoint.name}/{model.id}": model.id for model in endpoint.models},
        )

    def _model(self, request: ChatRequest) -> str:
        return self.upstream_ids.get(request.model, request.model)

    def complete(self, request: ChatRequest) -> Completion:
        try:
            response = self.client.chat.completions.create(
                model=self._model(request),
                messages=cast(Any, to_openai_messages(request)),
                **_options(request),
            )
        except openai.OpenAIError as error:
            raise translate(error, openai, self.label, self.key_setting) from error
        try:
            return self._completion(response)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
            raise malformed_response(self.label, error) from error

    def stream(self, request: ChatRequest) -> Iterator[Delta | Completion]:
        """Chat Completions with `stream: true`; the usage comes in a last chunk with no choices
        (`stream_options.include_usage`). Tool calls arrive as fragments, joined by index."""
        text: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        finish, usage, model, response_id = None, None, request.model, None
        try:
            chunks = self.client.chat.completions.create(
                model=self._model(request),
                messages=cast(Any, to_openai_messages(request)),
                stream=True,
                stream_options={"include_usage": True},
                **_options(request),
            )
            for chunk in chunks:
                model, response_id = chunk.model or model, chunk.id or response_id
                usage = chunk.usage or usage
                for choice in chunk.choices:
                    finish = choice.finish_reason or finish
                    fragments = [f.model_dump(exclude_none=True) for f in choice.delta.tool_calls or []]
                    for fragment in fragments:
                        _join_fragment(calls, fragment)
                    if choice.delta.content or fragments:
                        text.append(choice.delta.content or "")
                        yield Delta(content=choice.delta.content or None, tool_calls=fragments or None)
        except openai.OpenAIError as error:
            raise translate(error, openai, self.label, self.key_setting) from error
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
            raise malformed_response(self.label, error) from error
        if finish is None:  # every stream that ends whole ends with a choice's finish_reason
            raise stream_cut(self.label)
        prompt, completion = (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)
        yield Completion(
            content="".join(text),
            finish_reason=_FINISH.get(finish or "stop", "stop"),
            usage=TokenUsage(
                prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
            ),
            model=model,
            tool_calls=[calls[index] for index in sorted(calls)] or None,
            metadata={"provider": self.name, "provider_response_id": response_id, **_usage_detail(usage)},
        )

    def _completion(self, response: Any) -> Completion:
        choice = response.choices[0]
        usage = response.usage
        prompt, completion = (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)
        tool_calls = [call.model_dump(exclude_none=True) for call in choice.message.tool_calls or []]
        return Completion(
            content=choice.message.content or "",
            finish_reason=_FINISH.get(choice.finish_reason or "stop", "stop"),
            usage=TokenUsage(
                prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
            ),
            model=response.model,
            tool_calls=tool_calls or None,
            metadata={"provider": self.name, "provider_response_id": response.id, **_usage_detail(usage)},
        )


def _client(api_key: str, base_url: str | None, timeout: float, max_retries: int) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        http_client=deadline_bound_client(),
    )


def _usage_detail(usage: Any) -> dict[str, int]:
    """Cached prompt tokens (OpenAI caches long prompts by itself) and reasoning tokens, if any."""
    prompt = getattr(usage, "prompt_tokens_details", None)
    completion = getattr(usage, "completion_tokens_details", None)
    detail = {
        "cached_tokens": int(getattr(prompt, "cached_tokens", 0) or 0),
        "reasoning_tokens": int(getattr(completion, "reasoning_tokens", 0) or 0),
    }
    return {name: count for name, count in detail.items() if count}


def _options(request: ChatRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if request.temperature is not None and not request.model.startswith(REASONING_MODELS):
        options["temperature"] = request.temperature  # reasoning models refuse it
    if request.max_tokens is not None:
        options["max_completion_tokens"] = request.max_tokens
    if request.top_p is not None:
        options["top_p"] = request.top_p
    if request.stop:
        options["stop"] = request.stop
    if request.response_format is not None:
        options["response_format"] = request.response_format
    if request.tools:
        options["tools"] = request.tools
        if request.tool_choice is not None:
            options["tool_choice"] = request.tool_choice
    return options


def _join_fragment(calls: dict[int, dict[str, Any]], fragment: dict[str, Any]) -> None:
    """Add a streamed tool-call fragment to the call of its index."""
    call = calls.setdefault(
        int(fragment.get("index", 0)),
        {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
    )
    call["id"] = fragment.get("id") or call["id"]
    function = fragment.get("function") or {}
    call["function"]["name"] += function.get("name") or ""
    call["function"]["arguments"] += function.get("arguments") or ""


def to_openai_messages(request: ChatRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if request.system_prompt:
        messages.append({"role": "system", "content": request.system_prompt})
    messages += [_message(m) for m in request.messages]
    return messages


def _message(message: PromptMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "content": message.content, "tool_call_id": message.tool_call_id or ""}
    converted: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        converted["tool_calls"] = message.tool_calls
        converted["content"] = message.content or None
    return converted
