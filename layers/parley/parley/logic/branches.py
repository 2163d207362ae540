"""What every change of branch does (parley.logic.forks): find where a new message goes, read the
path down to it and its running summary, and write the change, planned again if another request
moved the branch in between (the reply is generated once, before anything is written)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from parley.auth.principal import Principal
from parley.config import Settings
from parley.errors import Conflict, ConversationNotFound, InvalidRequest, MessageNotFound
from parley.logic.access import CONVERSATIONS
from parley.logic.after_exchange import after_exchange
from parley.logic.branch_plans import Tree, archived_path
from parley.logic.chat import Reply
from parley.logic.summaries import Memory
from parley.models.domain import Charge, Conversation, Message, RunningSummary, timestamp
from parley.store.branches import BranchChanged, BranchStore, Head, Node, Reroute
from parley.store.conversations import ConversationStore

ATTEMPTS = 3  # plans of one change, when other requests keep moving the branch
T = TypeVar("T")


@dataclass
class Placement:
    """Where a new message under `parent` goes: the tree around it and the archived messages from
    the active branch down to the parent (the branch it joins, oldest first)."""

    parent: str | None
    tree: Tree
    chain: list[Node]
    summaries: dict[str, RunningSummary] = field(default_factory=dict)

    def sibling_ids(self, new_id: str) -> list[str]:
        return [*self.tree.sibling_ids(self.parent), new_id]


def locate(branches: BranchStore, conversation_id: str, parent: str | None) -> Placement:
    """Read what a message under `parent` (None: a new first message) changes; a 400 naming the
    parent when it is not a message of the conversation."""
    if parent is None:
        return Placement(None, Tree(None, branches.active_from(conversation_id, None)), [])
    from_parent = branches.active_from(conversation_id, parent)
    if from_parent:
        return Placement(parent, Tree(parent, from_parent[1:]), [])
    archived, summaries = branches.archive(conversation_id)
    if parent not in archived:
        raise InvalidRequest(
            f"parent_id '{parent}' names no message of this conversation.", code="unknown_parent"
        )
    fork, chain = archived_path(parent, archived)
    return Placement(parent, tree_from(branches, conversation_id, fork, archived), chain, summaries)


def steady(branches: BranchStore, conversation_id: str, read: Callable[[], T]) -> tuple[T, Head]:
    """`read` (several queries of the tree) as of one state of the branch, and that state's head.
    The head is read before and after; when another request moved the branch in between, a
    message may have been on its way between the active branch and the archive, so the reading
    is made again (a 409 when that keeps happening). A message found nowhere while the branch
    held still is really missing: the 404 or 400 `read` raised stands."""
    for _ in range(ATTEMPTS):
        before = branches.head(conversation_id)
        if before is None:
            raise ConversationNotFound(conversation_id)
        try:
            result = read()
        except (BranchChanged, MessageNotFound, InvalidRequest, KeyError, ValueError) as failure:
            # KeyError, ValueError: a read that met half of a move (a parent not where it was)
            moved = branches.head(conversation_id) != before
            if isinstance(failure, BranchChanged) or (moved and _maybe_in_transit(failure)):
                continue
            raise
        if branches.head(conversation_id) == before:
            return result, before
    raise changing()


def _maybe_in_transit(failure: Exception) -> bool:
    """A failure a move in progress can cause: a message looked for in neither place."""
    if isinstance(failure, MessageNotFound | KeyError | ValueError):
        return True
    return getattr(failure, "code", None) == "unknown_parent"


def changing() -> Conflict:
    return Conflict(
        "The conversation's branch kept changing while this was written; try again.",
        code="conversation_changed",
    )


def tree_from(
    branches: BranchStore, conversation_id: str, fork: str | None, archived: dict[str, Node]
) -> Tree:
    if fork is None:
        return Tree(None, branches.active_from(conversation_id, None), archived)
    from_fork = branches.active_from(conversation_id, fork)
    if not from_fork:  # a change cut short left this message's parent off the branch: try again
        raise BranchChanged
    return Tree(fork, from_fork[1:], archived)


@dataclass(frozen=True)
class Branching:
    """What a branch change needs: the stores, and who asks."""

    store: ConversationStore
    branches: BranchStore
    principal: Principal
    conversation_id: str

    def open(self) -> tuple[Head, Conversation]:
        """The branch's head and the conversation, the caller's (404 otherwise): one Query."""
        conversation = self.store.get(self.conversation_id)
        owned = CONVERSATIONS.require_access(self.conversation_id, conversation, self.principal)
        return Head.of(owned), owned

    def path_to(self, placement: Placement, recent: int) -> tuple[list[Message], bool]:
        """The newest `recent` messages from the branch's first down to the placement's parent,
        and whether they begin with the first."""
        fork = placement.tree.fork if placement.chain else placement.parent
        active, from_start = (
            self.store.active_through(self.conversation_id, fork, recent) if fork else ([], True)
        )
        path = [*active, *(node.message for node in placement.chain)]
        return path[-recent:], from_start and len(path) <= recent

    def memory(
        self, conversation: Conversation, placement: Placement, config: Settings, *, reaches_start: bool
    ) -> Memory | None:
        """The running summary that is this path's: the active one if it runs through a message
        before the fork, else an archived one that runs through a message of the chain."""
        if config.history_strategy == "window":
            return None
        fork = placement.tree.fork if placement.chain else placement.parent
        summary = conversation.summary
        if summary is not None and not (fork is not None and summary.through_message_id <= fork):
            summary = None
        for node in placement.chain:
            summary = placement.summaries.get(node.id, summary)

        def earlier(after: str | None, limit: int) -> list[Message]:
            found = self.store.messages_after(self.conversation_id, after, limit)
            return [m for m in found if fork is not None and m.id <= fork]

        return Memory(summary, reaches_start, earlier, config.summary_model)

    def after_exchange(self, reply: Reply, title: str | None) -> None:
        """A generated title and the path's summary extended for the prompt, written after the
        exchange (neither can cost it; a summary only if the branch still ends with the reply)."""
        after_exchange(self.store, self.conversation_id, reply.message, title, reply.summary)

    def commit(self, head: Head, plan: Callable[[], Reroute], charge: Charge | None = None) -> None:
        """Write the change `plan` makes, planning it again from a new head when another request
        moved the branch in between; a 409 when that keeps happening."""
        for _ in range(ATTEMPTS):
            try:
                self.branches.reroute(self.conversation_id, head, plan(), timestamp(), charge)
                return
            except (BranchChanged, MessageNotFound, InvalidRequest) as failure:
                found = self.branches.head(self.conversation_id)
                if found is None:
                    raise ConversationNotFound(self.conversation_id) from None
                if not isinstance(failure, BranchChanged) and not (
                    found != head and _maybe_in_transit(failure)
                ):
                    raise
                head = found
        raise changing()
