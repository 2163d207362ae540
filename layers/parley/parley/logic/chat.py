"""Generating the assistant's reply to a conversation: the history that fits, one provider call
within the deadline, and the reply with its usage and cost. Nothing is stored here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parley.logic.generation import Generation
from parley.logic.prompt import fit_history, without_dangling_tool_results
from parley.logic.summaries import Memory, Prompt, prompt_with_memory
from parley.models.domain import Conversation, Message, RunningSummary
from parley.providers.base import ChatRequest, Completion, PromptMessage
from parley.providers.registry import ModelSpec, model_spec


@dataclass(frozen=True)
class Tooling:
    """The tools offered to the model on one generation, and the choice."""

    tools: list[dict[str, Any]]
    choice: str | dict[str, Any] | None = None


@dataclass(frozen=True)
class Reply:
    message: Message  # the assistant's, not yet stored
    summary: RunningSummary | None = None  # the branch's summary, extended for this prompt: store it


def generate_reply(
    conversation: Conversation,
    history: list[Message],
    generation: Generation,
    model: str | None = None,
    *,
    tools: Tooling | None = None,
    memory: Memory | None = None,
) -> Reply:
    """The assistant message answering `history` (chronological, the newest last). The caller
    writes it together with the message it answers and the meter's charge, so a failure leaves
    nothing behind. With a `memory`, what no longer fits the prompt is in the branch's running
    summary (parley.logic.summaries); without, it is left out."""
    spec = model_spec(model or conversation.model)
    max_output = spec.max_output_tokens
    if memory is not None:
        prompt = prompt_with_memory(
            spec, conversation, history, max_output=max_output, memory=memory, generation=generation
        )
    else:
        prompt = Prompt(
            conversation.system_prompt, fit_history(spec, conversation.system_prompt, history, max_output)
        )
    request = ChatRequest(
        model=spec.id,
        system_prompt=prompt.system_prompt,
        messages=without_dangling_tool_results(
            [
                PromptMessage(m.role, m.content, m.tool_calls, m.metadata.get("tool_call_id"))
                for m in prompt.turns
            ]
        ),
        max_tokens=max_output,
        tools=tools.tools if tools else None,
        tool_choice=tools.choice if tools else None,
    )
    completion, latency_ms = generation.call(spec, request)
    message = assistant_message(
        conversation.id, spec, completion, latency_ms, context_messages=len(prompt.turns)
    )
    return Reply(message, prompt.folded)


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
