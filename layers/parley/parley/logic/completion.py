"""A chat-completion exchange on a stored conversation, whichever way it goes in: an answer to a
new message at the end of the active branch, to a new message under any other message (a branch
of its own), or another answer to turns already answered (regenerate). One flow, in order:

1. read the turns the reply answers, and the branch's running summary (`Turns`); for a
   conversation bound to an assistant, what the assistant brings: its model and prompt, what its
   retrieval finds, its MCP servers (parley.logic.bound_assistant);
2. fold what no longer fits the prompt into that summary (parley.logic.summaries.prompt_for);
3. generate the reply;
4. title an untitled conversation's first exchange;
5. store the new messages with the charge of every generation of the request, all or nothing:
   appended to the active branch, or as a change of branch (`Turns.store`);
6. after it is stored, the title and the extended summary, neither at the exchange's cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from parley.auth.principal import Principal
from parley.config import Settings
from parley.errors import ConversationNotFound
from parley.logic.after_exchange import after_exchange
from parley.logic.approvals import Approval, resume
from parley.logic.bound_assistant import Assistants, bind
from parley.logic.branching.changes import commit, locate, steady
from parley.logic.branching.plans import Placement, place_new
from parley.logic.branching.tree import TreeReader
from parley.logic.chat import Tooling, generate_reply
from parley.logic.generation import Generator, Listener
from parley.logic.summaries import Memory, prompt_for
from parley.logic.titles import title_after_first_exchange
from parley.logic.tool_loop import open_toolbox, together
from parley.models.api.tools import McpTool
from parley.models.approvals import RESULTS
from parley.models.domain import Branch, Charge, Conversation, Message
from parley.models.tools import ToolRun
from parley.models.tree import Head, Reroute, branch_of
from parley.providers.registry import ModelSpec, model_spec
from parley.store.active_branch import CompletionContext
from parley.store.branch_moves import BranchStore
from parley.store.conversations import ConversationStore

Store = Callable[[list[Message], Charge | None], None]


@dataclass
class Turns:
    """What a reply answers and how the exchange is stored."""

    conversation: Conversation
    history: list[Message]  # the turns it answers, oldest first (a new message last, if any)
    memory: Memory | None  # the branch's running summary; None with HISTORY_STRATEGY=window
    conversations: ConversationStore
    store: Store  # writes the exchange's new messages with the request's charge


@dataclass(frozen=True)
class Asking:
    """Who asks, for what, and what generating needs."""

    principal: Principal
    generator: Generator
    config: Settings
    model: str | None = None
    tools: Tooling | None = None
    servers: list[McpTool] = field(default_factory=list)  # MCP servers whose tools Parley runs
    listener: Listener | None = None
    assistants: Assistants | None = None  # for a conversation bound to an assistant
    approval: Approval | None = None  # the user's answer to the approvals the last answer asked


def complete(turns: Turns, new: list[Message], asking: Asking, *, titled: bool = True) -> Message:
    """The reply to `turns`, stored with the `new` messages before it (none for another answer)."""
    generation = asking.generator.open(turns.conversation.brand_id, asking.principal, asking.listener)
    binding = bind(
        turns.conversation,
        turns.history,
        asking.principal,
        asking.assistants,
        model=asking.model,
        spent=generation.charge_rerank,
    )
    conversation = binding.conversation  # as the model sees it: bound, its assistant's prompt and model
    if binding.guardrail is not None:
        generation.guard_with(binding.guardrail.id, binding.guardrail.version)
    taken = {tool["function"]["name"] for tool in (asking.tools.tools if asking.tools else [])}
    servers = together(binding.servers, asking.servers)
    toolbox = open_toolbox(
        servers,
        taken,
        asking.generator.remote_tools,
        asking.config,
        where=None,
        unconnected=binding.unconnected,
    )
    resumed: list[ToolRun] = []
    if asking.approval is not None:  # the approved calls run first; the model reads every result
        results, resumed = resume(
            asking.approval,
            toolbox,
            generation=generation,
            config=asking.config,
            unconnected=binding.unconnected,
        )
        turns.history[-1].metadata[RESULTS] = results
    if binding.chunks:
        generation.context(binding.context())
    spec = model_spec(asking.model or conversation.model, asking.config)
    prompt = prompt_for(spec, conversation, turns.history, turns.memory, generation)
    reply = generate_reply(
        conversation, prompt, generation, spec, tools=asking.tools, toolbox=toolbox, config=asking.config
    )
    answer = reply.message
    if resumed:
        answer.metadata["tool_runs"] = [run.record() for run in resumed] + answer.metadata.get(
            "tool_runs", []
        )
    answer.parent_id = turns.history[-1].id if turns.history else None
    binding.cited(answer)
    title = (
        title_after_first_exchange(turns.conversation, [*turns.history, answer], generation, asking.config)
        if titled
        else None
    )
    for message in new:
        message.content = generation.stored(message.content)  # as the guardrail masked it, if it did
    generation.settle(lambda charge: turns.store([*new, answer], charge))
    after_exchange(turns.conversations, turns.conversation.id, answer, title, reply.summary)
    return answer


def at_the_end(store: ConversationStore, context: CompletionContext, owner: str, config: Settings) -> Turns:
    """An exchange at the end of the active branch, written without reading it again: the new
    messages follow whatever is newest there when they land."""
    conversation_id = context.conversation.id

    def append(messages: list[Message], charge: Charge | None) -> None:
        if not store.append(conversation_id, owner, messages, messages[-1].created_at, charge):
            raise ConversationNotFound(conversation_id)  # deleted while the reply was generated
        for message in messages:
            message.branch = Branch(index=1, count=1)

    memory = memory_of(context, store, config)
    return Turns(context.conversation, list(context.recent), memory, store, append)


def memory_of(context: CompletionContext, store: ConversationStore, config: Settings) -> Memory | None:
    """The active branch's running summary and where to read what it has not caught up on; None
    when HISTORY_STRATEGY is `window`."""
    if config.history_strategy == "window":
        return None
    conversation_id = context.conversation.id
    return Memory(
        context.conversation.summary,
        context.reaches_start,
        lambda after, limit: store.messages_after(conversation_id, after, limit),
        summarizer(config),
    )


@dataclass(frozen=True)
class Branching:
    """An exchange on a branch of its own: its messages go under `parent` (None: a new first
    message), and the branch through them becomes the active one."""

    store: ConversationStore
    branches: BranchStore
    conversation: Conversation
    config: Settings

    def turns_under(self, parent: str | None, *, reading: bool = True) -> Turns:
        """The turns down to `parent` (none when `reading` is False: nothing is generated) and
        the change that stores the exchange under it, read as of one state of the branch."""
        conversation_id = self.conversation.id

        def read(head: Head) -> tuple[Placement, list[Message], bool]:
            placement = locate(TreeReader(self.branches, conversation_id, head), parent)
            if not reading:
                return placement, [], True
            return placement, *self.path_to(placement)

        (placement, history, from_start), head = steady(self.branches, conversation_id, read)
        memory = self.memory(placement, reaches_start=from_start) if reading else None
        return Turns(self.conversation, history, memory, self.store, self._storing(placement, head))

    def _storing(self, placement: Placement, head: Head) -> Store:
        """Writes new messages under the placement's parent: planned from what was read first,
        then, if the branch moved before it was written, from what is there then."""
        first = [placement]
        conversation_id = self.conversation.id

        def store(messages: list[Message], charge: Charge | None) -> None:
            def plan(now: Head) -> Reroute:
                where = (
                    first.pop()
                    if first and now == head
                    else locate(TreeReader(self.branches, conversation_id, now), placement.parent_id)
                )
                change = place_new(where, messages, self.conversation.summary)
                for message, kin in change.new:
                    message.branch = branch_of(kin, where.children + 1 if message is messages[0] else 1)
                return change

            commit(self.branches, conversation_id, head, plan, charge)

        return store

    def path_to(self, placement: Placement) -> tuple[list[Message], bool]:
        """The newest messages (HISTORY_MAX_MESSAGES) from the branch's first down to the
        placement's parent, and whether they begin with the first."""
        recent = self.config.history_max_messages
        fork = placement.fork
        active, from_start = (
            self.store.active_through(self.conversation.id, fork, recent) if fork else ([], True)
        )
        path = [*active, *(node.message for node in placement.chain)]
        return path[-recent:], from_start and len(path) <= recent

    def memory(self, placement: Placement, *, reaches_start: bool) -> Memory | None:
        """The running summary that is this path's: the active one if it runs through a message
        before the fork, else an archived one that runs through a message of the chain."""
        if self.config.history_strategy == "window":
            return None
        fork = placement.fork
        summary = self.conversation.summary
        if summary is not None and not (fork is not None and summary.through_message_id <= fork):
            summary = None
        for node in placement.chain:
            summary = placement.summaries.get(node.id, summary)

        def earlier(after: str | None, limit: int) -> list[Message]:
            found = self.store.messages_after(self.conversation.id, after, limit)
            return [m for m in found if fork is not None and m.id <= fork]

        return Memory(summary, reaches_start, earlier, summarizer(self.config))


def summarizer(config: Settings) -> ModelSpec | None:
    """SUMMARY_MODEL's spec; None: each conversation's own model summarizes it."""
    return model_spec(config.summary_model, config) if config.summary_model else None
