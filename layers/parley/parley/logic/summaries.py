"""Running summaries: when the turns that fit a model's prompt no longer reach the start of the
active branch, what falls out is folded into the branch's summary, which the prompt carries
before the turns that fit, instead of being forgotten.

A fold is one extra generation (the conversation's model, or SUMMARY_MODEL), metered with the
request. It extends the summary with the messages after the one it ran through, never rewrites
it from the start, and folds a little more than it must (until the turns left take at most
FOLD_TO of the room), so the next fold comes many turns later rather than on every request. A
summary far behind (a long conversation from before summaries) catches up a summarizer's prompt
at a time, one fold per request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from parley.errors import InvalidRequest
from parley.logic.generation import Generation
from parley.logic.prompt import MESSAGE_OVERHEAD_TOKENS, fit_history, message_tokens
from parley.models.domain import Conversation, Message, RunningSummary, timestamp
from parley.providers.base import ChatRequest, PromptMessage
from parley.providers.registry import ModelSpec
from parley.tokens import estimate_tokens

FOLD_TO = 0.75  # a fold leaves the turns at most this share of the room
SUMMARY_MAX_TOKENS = 600  # a summary's length, reserved in the prompt while one may be carried
EXCERPT_CHARS = 4_000  # of each message a fold reads
SUMMARY_HEADING = "Summary of the earlier part of this conversation (its first turns no longer fit):"
INSTRUCTIONS = (
    "You keep the running summary of a conversation between a user and an assistant. Rewrite the "
    "summary so far so that it also covers the new messages. Keep names, numbers, decisions, the "
    "user's preferences, open questions and what the user asked for; leave out pleasantries. At "
    "most 250 words, in the conversation's language. Answer with the summary only."
)

Earlier = Callable[[str | None, int], list[Message]]  # the branch's messages after an id, oldest first


@dataclass(frozen=True)
class Memory:
    """What a generation knows of the branch beyond the messages it was given."""

    summary: RunningSummary | None  # the branch's summary, if it has one
    reaches_start: bool  # the messages given begin with the branch's first one
    earlier: Earlier  # reads the branch's messages after an id (None: from its start)
    summarizer: ModelSpec | None = None  # SUMMARY_MODEL's; None: the conversation's own


@dataclass(frozen=True)
class Prompt:
    system_prompt: str | None
    turns: list[Message]
    folded: RunningSummary | None = None  # a summary made for this prompt: the caller stores it


def with_summary(system_prompt: str | None, summary: RunningSummary | None) -> str | None:
    if summary is None:
        return system_prompt
    section = f"{SUMMARY_HEADING}\n{summary.content}"
    return f"{system_prompt}\n\n{section}" if system_prompt else section


def prompt_for(
    spec: ModelSpec,
    conversation: Conversation,
    history: list[Message],
    memory: Memory | None,
    generation: Generation,
) -> Prompt:
    """The prompt of a reply to `history`: with a `memory`, the summary folded further first when
    turns would otherwise fall out (one metered generation); without, the newest turns that fit."""
    max_output = spec.max_output_tokens
    if memory is None:
        turns = fit_history(spec, conversation.system_prompt, history, max_output)
        return Prompt(conversation.system_prompt, turns)
    return prompt_with_memory(
        spec, conversation, history, max_output=max_output, memory=memory, generation=generation
    )


def prompt_with_memory(
    spec: ModelSpec,
    conversation: Conversation,
    history: list[Message],
    *,
    max_output: int,
    memory: Memory,
    generation: Generation,
) -> Prompt:
    """The system prompt and the turns for a reply to `history` (the branch's newest messages,
    chronological): all of them when the whole branch fits; else the newest that fit, after the
    summary of the rest, folded further now if messages would otherwise be left out."""
    room = spec.context_window - max_output - estimate_tokens(conversation.system_prompt or "")
    room -= MESSAGE_OVERHEAD_TOKENS
    if memory.reaches_start and newest_that_fit(history, room) == len(history):
        return Prompt(conversation.system_prompt, history)
    room -= SUMMARY_MAX_TOKENS + estimate_tokens(SUMMARY_HEADING)
    fits = len(history) - newest_that_fit(history, room)  # the first message that fits
    summary = memory.summary
    covered = _covered(summary, history)  # history[:covered] is in the summary (-1: not all before it)
    start = max(fits, covered)
    if covered < start:  # messages the prompt would leave out: fold them, and a little more
        fold_to = max(start, len(history) - newest_that_fit(history, room * FOLD_TO))
        if not memory.reaches_start:  # the read window binds too: leave a quarter of it to fold
            fold_to = max(fold_to, len(history) - max(1, int(len(history) * FOLD_TO)))
        summary = _fold(spec, history[:fold_to], covered, memory, generation)
        start = max(fits, _covered(summary, history))
    turns = history[start:]
    while len(turns) > 1 and turns[0].role == "tool":  # its calling turn is in the summary
        turns = turns[1:]
    folded = summary if summary is not memory.summary else None
    return Prompt(with_summary(conversation.system_prompt, summary), turns, folded)


def newest_that_fit(history: list[Message], room: float) -> int:
    """How many of the newest messages fit in `room` tokens; a 400 when not even the newest does."""
    count = 0
    for message in reversed(history):
        room -= message_tokens(message)
        if room < 0:
            break
        count += 1
    if history and count == 0:
        raise InvalidRequest(
            f"The message needs about {message_tokens(history[-1])} tokens, more than the model's context "
            "window leaves after the system prompt and the reply.",
            code="context_too_long",
        )
    return count


def _covered(summary: RunningSummary | None, history: list[Message]) -> int:
    """How many of `history`'s first messages the summary covers; -1 when messages between the
    summary's end and `history` are in neither (or there is no summary and history is not the
    branch's start: the caller knows which)."""
    if summary is None:
        return -1
    ids = [m.id for m in history]
    if summary.through_message_id in ids:
        return ids.index(summary.through_message_id) + 1
    return 0 if history and history[0].parent_id == summary.through_message_id else -1


def _fold(
    spec: ModelSpec, left_out: list[Message], covered: int, memory: Memory, generation: Generation
) -> RunningSummary | None:
    """The summary extended with what the prompt leaves out (`left_out`, of which the summary
    has the first `covered`), oldest first, as much as one summarizer prompt holds. Messages
    between the summary and `left_out` are read and folded first."""
    if covered >= 0:
        pending = left_out[covered:]
    elif memory.summary is None and memory.reaches_start:
        pending = left_out
    else:
        after = memory.summary.through_message_id if memory.summary else None
        first = left_out[0].id if left_out else None
        pending = memory.earlier(after, 200)
        if first is not None and first in {m.id for m in pending}:
            pending = pending[: [m.id for m in pending].index(first)] + left_out
    summarizer = memory.summarizer or spec
    room = summarizer.context_window - SUMMARY_MAX_TOKENS - estimate_tokens(INSTRUCTIONS)
    room -= estimate_tokens(memory.summary.content if memory.summary else "") + 2 * MESSAGE_OVERHEAD_TOKENS
    batch: list[Message] = []
    for message in pending:
        room -= estimate_tokens(_line(message)) + 1
        if room < 0:
            break
        batch.append(message)
    if not batch:
        return memory.summary
    return summarize(summarizer, memory.summary, batch, generation)


def summarize(
    spec: ModelSpec, summary: RunningSummary | None, messages: list[Message], generation: Generation
) -> RunningSummary | None:
    """One generation: the summary so far and `messages` (which follow it) in a new summary."""
    so_far = summary.content if summary else "(none yet: these are the conversation's first messages)"
    request = ChatRequest(
        model=spec.id,
        system_prompt=INSTRUCTIONS,
        messages=[
            PromptMessage(
                "user",
                f"Summary so far:\n{so_far}\n\nNew messages:\n" + "\n".join(_line(m) for m in messages),
            )
        ],
        max_tokens=SUMMARY_MAX_TOKENS,
        temperature=0,
        task="summary",
    )
    completion, _ = generation.call(spec, request, streamed=False)
    content = completion.content.strip()
    if not content:
        return summary
    return RunningSummary(content=content, through_message_id=messages[-1].id, updated_at=timestamp())


def _line(message: Message) -> str:
    text = message.content[:EXCERPT_CHARS]
    if message.tool_calls:
        text += f" (calls {', '.join(str(c.get('function', {}).get('name')) for c in message.tool_calls)})"
    return f"{message.role}: {text}"
