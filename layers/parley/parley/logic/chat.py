"""Generating the assistant's reply to a conversation's prompt: one provider call within the
deadline, and the reply with its usage and cost. Nothing is stored here."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from parley.config import Settings
from parley.logic.approvals import prompt_turns
from parley.logic.generation import Generation
from parley.logic.prompt import without_dangling_tool_results
from parley.logic.summaries import Prompt
from parley.logic.tool_loop import Toolbox, answer_with_tools
from parley.models.domain import Conversation, Message, RunningSummary
from parley.models.tools import ToolRun
from parley.providers.base import ChatRequest, Completion
from parley.providers.registry import ModelSpec


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
    prompt: Prompt,
    generation: Generation,
    spec: ModelSpec,
    *,
    tools: Tooling | None = None,
    toolbox: Toolbox | None = None,
    config: Settings | None = None,
) -> Reply:
    """The assistant message answering `prompt` (its turns chronological, the newest last, as
    parley.logic.summaries.prompt_for made it); with a `toolbox`, Parley runs its MCP tools for
    the model (parley.logic.tool_loop) and the message keeps the runs in `metadata.tool_runs`.
    The caller writes it together with the message it answers and the meter's charge, so a
    failure leaves nothing behind."""
    request = ChatRequest(
        model=spec.id,
        system_prompt=prompt.system_prompt,
        messages=without_dangling_tool_results(prompt_turns(prompt.turns)),
        max_tokens=spec.max_output_tokens,
        tools=tools.tools if tools else None,
        tool_choice=tools.choice if tools else None,
    )
    runs: list[ToolRun] = []
    if toolbox is not None and generation.generator.remote_tools is not None and config is not None:
        started = time.perf_counter()
        completion, runs = answer_with_tools(
            generation, spec, request, toolbox, client=generation.generator.remote_tools, config=config
        )
        latency_ms = round((time.perf_counter() - started) * 1000)
    else:
        completion, latency_ms = generation.call(spec, request)
    message = assistant_message(
        conversation.id, spec, completion, latency_ms, context_messages=len(prompt.turns)
    )
    if runs:
        message.metadata["tool_runs"] = [run.record() for run in runs]
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
