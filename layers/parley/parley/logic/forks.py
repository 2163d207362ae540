"""New branches: an append under a message other than the newest (an edited question is a new user
message under the edited one's parent; `parent_id: null` a new first message), another answer to
the same turns (regenerate), and the choice of the active branch (PATCH active_message_id). The
new branch becomes the active one."""

from __future__ import annotations

from collections.abc import Callable

from parley.auth.principal import AI_CHAT, CONVERSATIONS_WRITE, Principal
from parley.config import Settings
from parley.errors import InvalidRequest, MessageNotFound
from parley.logic.branch_plans import Tree, archived_path, newest_descendants, reroute_to
from parley.logic.branches import Branching, Placement, locate, steady, tree_from
from parley.logic.chat import Reply, Tooling, generate_reply
from parley.logic.generation import Generation, Generator, Listener
from parley.logic.limits import require_uuid
from parley.logic.titles import title_after_first_exchange
from parley.logic.tool_turns import check_no_call_unanswered, check_tool_call_answered, offered_tools
from parley.models.api.conversations import (
    AppendMessageRequest,
    AppendMessageResponse,
    RegenerateRequest,
    RegenerateResponse,
    UpdateConversationRequest,
)
from parley.models.domain import Branch, Conversation, Message
from parley.store.branches import BranchChanged, BranchStore, Reroute
from parley.store.conversations import ConversationStore


def append_under(
    principal: Principal,
    conversation_id: str,
    request: AppendMessageRequest,
    message: Message,
    parent: str | None,
    *,
    store: ConversationStore,
    branches: BranchStore,
    generator: Generator,
    config: Settings,
    listener: Listener | None = None,
) -> AppendMessageResponse:
    """`message` (checked by the caller) under `parent`, with the reply in chat-completion mode;
    the branch through them becomes the active one."""
    branching = Branching(store, branches, principal, conversation_id)
    _, conversation = branching.open()
    generating = request.mode == "chat-completion"

    def read() -> tuple[Placement, list[Message], bool]:
        where = locate(branches, conversation_id, parent)
        return where, *(branching.path_to(where, config.history_max_messages) if generating else ([], True))

    (placement, turns, from_start), head = steady(branches, conversation_id, read)
    message.parent_id = parent
    reply: Reply | None = None
    generation: Generation | None = None
    if generating:
        check_tool_call_answered(request, turns)
        check_no_call_unanswered([*turns, message])
        tooling = offered_tools(request, conversation)
        generation = generator.open(conversation.brand_id, principal, listener)
        reply = generate_reply(
            conversation,
            [*turns, message],
            generation,
            model=request.model,
            tools=tooling,
            memory=branching.memory(conversation, placement, config, reaches_start=from_start),
        )
        reply.message.parent_id = message.id
    new = [message] if reply is None else [message, reply.message]
    plan = planner(branching, conversation, placement, new)
    if generation is None:
        branching.commit(head, plan)
        return AppendMessageResponse(message=message, assistant_message=None)
    assert reply is not None
    title = title_after_first_exchange(conversation, [message, reply.message], generation, config)
    generation.settle(lambda charge: branching.commit(head, plan, charge))
    branching.after_exchange(reply, title)
    reply.message.branch = Branch.of(reply.message.id, None)
    return AppendMessageResponse(message=message, assistant_message=reply.message)


def regenerate_answer(
    principal: Principal,
    conversation_id: str,
    message_id: str,
    request: RegenerateRequest,
    *,
    store: ConversationStore,
    branches: BranchStore,
    generator: Generator,
    config: Settings,
    listener: Listener | None = None,
) -> RegenerateResponse:
    """Another answer to the turns an assistant message answered: its sibling, made active (with
    the branch through it). A user or tool message is a 400."""
    principal.require(CONVERSATIONS_WRITE)
    principal.require(AI_CHAT)
    conversation_id = require_uuid(conversation_id, "conversation_id")
    message_id = require_uuid(message_id, "message_id")
    branching = Branching(store, branches, principal, conversation_id)
    _, conversation = branching.open()

    def read() -> tuple[Message, Placement, list[Message], bool]:
        found, where = _answer_and_place(branching, message_id)
        if found.role != "assistant":
            return found, where, [], True
        return found, where, *branching.path_to(where, config.history_max_messages)

    (answered, placement, turns, from_start), head = steady(branches, conversation_id, read)
    if answered.role != "assistant":
        raise InvalidRequest(
            f"Message '{message_id}' is a {answered.role} message; only an assistant's answer is "
            "regenerated (to change a question, append a new one with its parent_id).",
            code="not_an_answer",
        )
    generation = generator.open(conversation.brand_id, principal, listener)
    reply = generate_reply(
        conversation,
        turns,
        generation,
        model=request.model,
        tools=Tooling(conversation.tools) if conversation.tools else None,
        memory=branching.memory(conversation, placement, config, reaches_start=from_start),
    )
    reply.message.parent_id = placement.parent
    plan = planner(branching, conversation, placement, [reply.message])
    generation.settle(lambda charge: branching.commit(head, plan, charge))
    branching.after_exchange(reply, None)
    return RegenerateResponse(assistant_message=reply.message)


def switch_branch(
    principal: Principal,
    conversation_id: str,
    request: UpdateConversationRequest,
    *,
    store: ConversationStore,
    branches: BranchStore,
) -> Conversation:
    """Make the branch through `active_message_id` active: the message, its ancestors, and below
    it each time the newest child. Unknown to the conversation: a 404."""
    principal.require(CONVERSATIONS_WRITE)
    conversation_id = require_uuid(conversation_id, "conversation_id")
    target = require_uuid(request.active_message_id, "active_message_id")
    branching = Branching(store, branches, principal, conversation_id)
    head, conversation = branching.open()

    def plan() -> Reroute:
        archived, summaries = branches.archive(conversation_id)
        from_target = branches.active_from(conversation_id, target)
        if from_target:
            tree = Tree(target, from_target[1:], archived)
            path = newest_descendants(tree, target)
        elif target in archived:
            fork, chain = archived_path(target, archived)
            tree = tree_from(branches, conversation_id, fork, archived)
            path = [*chain, *newest_descendants(tree, target)]
        else:
            raise MessageNotFound(target)
        return reroute_to(tree, path, conversation.summary, summaries)

    branching.commit(head, plan)
    found = store.get(conversation_id)
    assert found is not None
    return found


def _answer_and_place(branching: Branching, message_id: str) -> tuple[Message, Placement]:
    """The message to regenerate and where its sibling goes (under the same parent)."""
    branches, conversation_id = branching.branches, branching.conversation_id
    from_it = branches.active_from(conversation_id, message_id)
    if from_it:
        through, _ = branching.store.active_through(conversation_id, message_id, 1)  # with its parent
        if not through:  # it left the active branch between the two reads: read again
            raise BranchChanged
        (answered,) = through
        parent = answered.parent_id
        return answered, Placement(parent, Tree(parent, from_it), [])
    archived, summaries = branches.archive(conversation_id)
    if message_id not in archived:
        raise MessageNotFound(message_id)
    answered = archived[message_id].message
    parent = answered.parent_id
    if parent is None:
        return answered, Placement(None, tree_from(branches, conversation_id, None, archived), [], summaries)
    if parent in archived:
        fork, chain = archived_path(parent, archived)
        return answered, Placement(
            parent, tree_from(branches, conversation_id, fork, archived), chain, summaries
        )
    return answered, Placement(parent, tree_from(branches, conversation_id, parent, archived), [], summaries)


def planner(
    branching: Branching, conversation: Conversation, placement: Placement, new: list[Message]
) -> Callable[[], Reroute]:
    """The change that puts `new` under the placement's parent: planned from what was read
    first, then, if the branch moved before it was written, from what is there then."""
    first: list[Placement] = [placement]

    def plan() -> Reroute:
        where = (
            first.pop() if first else locate(branching.branches, branching.conversation_id, placement.parent)
        )
        new[0].branch = Branch.of(new[0].id, where.sibling_ids(new[0].id))
        change = reroute_to(where.tree, where.chain, conversation.summary, where.summaries)
        change.new = new
        return change

    return plan
