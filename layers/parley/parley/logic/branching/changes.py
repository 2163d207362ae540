"""What every change of branch does: read what it needs as of one state of the branch (`steady`),
find where a new message goes (`locate`), and write the change, planned again from a new head if
another request moved the branch in between (`commit`; a reply is generated once, before
anything is written)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from parley.errors import Conflict, ConversationNotFound, InvalidRequest, MessageNotFound
from parley.logic.branching.plans import Placement
from parley.logic.branching.tree import TreeReader
from parley.models.domain import Charge, timestamp
from parley.models.tree import Head, Node, Reroute
from parley.store.branch_moves import BranchChanged, BranchStore

ATTEMPTS = 3  # plans of one change, when other requests keep moving the branch
T = TypeVar("T")


def locate(reader: TreeReader, parent_id: str | None) -> Placement:
    """Where a message under `parent_id` (None: a new first message) goes; a 400 naming the
    parent when it is not a message of the conversation."""
    if parent_id is None:
        active = reader.active_after(None)
        return _placed(reader, None, fork=None, active=active, chain=[], active_child=_first(active))
    parent = reader.node(parent_id)
    if parent is None:
        raise InvalidRequest(
            f"parent_id '{parent_id}' names no message of this conversation.", code="unknown_parent"
        )
    if parent.active:
        active = reader.active_after(parent_id)
        return _placed(reader, parent, fork=parent_id, active=active, chain=[], active_child=_first(active))
    fork, chain = reader.chain_to(parent_id)
    active = reader.active_after(fork)
    placement = _placed(reader, chain[-1], fork=fork, active=active, chain=chain, active_child=None)
    placement.summaries = reader.branches.archived_summaries(reader.conversation_id, [n.id for n in chain])
    return placement


def _placed(
    reader: TreeReader,
    parent: Node | None,
    *,
    fork: str | None,
    active: list[Node],
    chain: list[Node],
    active_child: Node | None,
) -> Placement:
    """The placement under `parent`, with its family: its count and newest child."""
    kin, children, newest_id = reader.family(parent, active_child)
    newest = active_child if active_child is not None and active_child.id == newest_id else None
    if newest is None and newest_id is not None:
        newest = reader.node(newest_id)
        if newest is None:
            raise BranchChanged
    return Placement(parent, fork, active, chain, kin, children, newest)


def _first(nodes: list[Node]) -> Node | None:
    return nodes[0] if nodes else None


def steady(branches: BranchStore, conversation_id: str, read: Callable[[Head], T]) -> tuple[T, Head]:
    """`read` (several reads of the tree) as of one state of the branch, and that state's head.
    The head is read before and after; when another request moved the branch in between, a
    message may have been on its way between the active branch and the archive, so the reading
    is made again (a 409 when that keeps happening). A message found nowhere while the branch
    held still is really missing: the 404 or 400 `read` raised stands."""
    for _ in range(ATTEMPTS):
        before = branches.head(conversation_id)
        if before is None:
            raise ConversationNotFound(conversation_id)
        try:
            result = read(before)
        except (BranchChanged, MessageNotFound, InvalidRequest) as failure:
            moved = branches.head(conversation_id) != before
            if isinstance(failure, BranchChanged) or (moved and _maybe_in_transit(failure)):
                continue
            raise
        if branches.head(conversation_id) == before:
            return result, before
    raise changing()


def commit(
    branches: BranchStore,
    conversation_id: str,
    head: Head,
    plan: Callable[[Head], Reroute],
    charge: Charge | None = None,
) -> None:
    """Write the change `plan` makes from `head`, planning it again from a new head when another
    request moved the branch in between; a 409 when that keeps happening."""
    for _ in range(ATTEMPTS):
        try:
            branches.reroute(conversation_id, head, plan(head), timestamp(), charge)
            return
        except (BranchChanged, MessageNotFound, InvalidRequest) as failure:
            found = branches.head(conversation_id)
            if found is None:
                raise ConversationNotFound(conversation_id) from None
            if not isinstance(failure, BranchChanged) and not (found != head and _maybe_in_transit(failure)):
                raise
            head = found
    raise changing()


def _maybe_in_transit(failure: Exception) -> bool:
    """A failure a move in progress can cause: a message looked for in neither place."""
    if isinstance(failure, MessageNotFound):
        return True
    return getattr(failure, "code", None) == "unknown_parent"


def changing() -> Conflict:
    return Conflict(
        "The conversation's branch kept changing while this was written; try again.",
        code="conversation_changed",
    )
