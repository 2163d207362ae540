"""Generating the assistant's reply to a conversation: the history that fits, one provider call
within the deadline, and the reply with its usage and cost. Nothing is stored here."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from parley.config import settings
from parley.logic.prompt import fit_history, without_dangling_tool_results
from parley.logic.quotas import Meter
from parley.models.domain import Conversation, Message
from parley.observability import record_generation
from parley.providers.base import ChatRequest, Completion, Delta, PromptMessage
from parley.providers.deadline import deadline
from parley.providers.faults import malformed_response
from parley.providers.provider_for import provider_for
from parley.providers.registry import ModelSpec, model_spec


@dataclass(frozen=True)
class Tooling:
    """The tools offered to the model on one generation, and the choice."""

    tools: list[dict[str, Any]]
    choice: str | dict[str, Any] | None = None


class Listener(Protocol):
    """Who watches a generation as it happens (a streamed response): the retrieved context, then
    each piece of the answer."""

    def context(self, chunks: list[Any]) -> None: ...

    def delta(self, delta: Delta) -> None: ...


def generate_reply(
    conversation: Conversation,
    history: list[Message],
    meter: Meter,
    model: str | None = None,
    *,
    listener: Listener | None = None,
    tools: Tooling | None = None,
) -> Message:
    """The assistant message answering `history` (chronological, the newest last). The caller
    writes it together with the message it answers and the meter's charge, so a failure leaves
    nothing behind."""
    spec = model_spec(model or conversation.model)
    max_output = spec.max_output_tokens
    prompt = fit_history(spec, conversation.system_prompt, history, max_output)
    request = ChatRequest(
        model=spec.id,
        system_prompt=conversation.system_prompt,
        messages=without_dangling_tool_results(
            [PromptMessage(m.role, m.content, m.tool_calls, m.metadata.get("tool_call_id")) for m in prompt]
        ),
        max_tokens=max_output,
        tools=tools.tools if tools else None,
        tool_choice=tools.choice if tools else None,
    )
    completion, latency_ms = call_provider(spec, request, meter, listener=listener)
    return assistant_message(conversation.id, spec, completion, latency_ms, context_messages=len(prompt))


def call_provider(
    spec: ModelSpec,
    request: ChatRequest,
    meter: Meter,
    deadline_seconds: float | None = None,
    listener: Listener | None = None,
) -> tuple[Completion, int]:
    """One completion from the model's provider within the deadline, and its latency in ms;
    tokens and cost go on the meter, and with latency into the metrics per model and brand.
    With a listener the answer is streamed: each piece goes to it as the provider sends it
    (under the longer streaming deadline), and the time to the first one is a metric too."""
    provider = provider_for(spec)
    started = time.perf_counter()
    first_token_ms: int | None = None
    if deadline_seconds is None:
        config = settings()
        deadline_seconds = config.stream_timeout_seconds if listener else config.provider_timeout_seconds
    with deadline(deadline_seconds):
        if listener is None:
            completion = provider.complete(request)
        else:
            for event in provider.stream(request):
                if isinstance(event, Completion):
                    completion = event
                    break
                if first_token_ms is None:
                    first_token_ms = round((time.perf_counter() - started) * 1000)
                listener.delta(event)
            else:
                raise malformed_response(provider.name, ValueError("the stream ended without a completion"))
    latency_ms = round((time.perf_counter() - started) * 1000)
    cost = spec.cost_usd(completion.usage, completion.metadata)
    meter.add(spec.id, completion.usage, cost, completion.metadata)
    record_generation(
        completion.model, meter.brand_id, completion.usage, cost, latency_ms, first_token_ms=first_token_ms
    )
    return completion, latency_ms


def assistant_message(
    conversation_id: str, spec: ModelSpec, completion: Completion, latency_ms: int, context_messages: int
) -> Message:
    return Message.new(
        conversation_id,
        "assistant",
        completion.content,
        tool_calls=completion.tool_calls,
        token_usage=completion.usage,
        metadata={
            **completion.metadata,
            "model": completion.model,
            "requested_model": spec.id,
            "finish_reason": completion.finish_reason,
            "cost_usd": spec.cost_usd(completion.usage, completion.metadata),
            "latency_ms": latency_ms,
            "context_messages": context_messages,
        },
    )
