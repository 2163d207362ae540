"""Where a change of branch goes, worked out from what was read (no I/O here): the `Reroute` that
makes a path active, and the one that puts new messages under a message, with the family
records it rewrites (the parent's count and newest child, the previous newest's next sibling)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from parley.models.domain import Message, RunningSummary
from parley.models.tree import Kin, KinChange, Node, Reroute


@dataclass
class Placement:
    """Where a new message under `parent` goes: the active branch after the fork, the archived
    messages from the fork down to the parent (the branch it joins, oldest first), and the
    parent's family as read."""

    parent: Node | None  # None: a new first message
    fork: str | None  # the active message the new branch keeps up to
    active_after: list[Node]
    chain: list[Node]
    kin: Kin  # the parent's record (~META's for a new first message)
    children: int
    newest: Node | None  # the parent's newest child, which the new message comes after
    summaries: dict[str, RunningSummary] = field(default_factory=dict)  # the chain's, by message

    @property
    def parent_id(self) -> str | None:
        return self.parent.id if self.parent is not None else None


def reroute_to(
    fork: str | None,
    active_after: list[Node],
    path: list[Node],
    summary: RunningSummary | None,
    summaries: dict[str, RunningSummary],
    *,
    rewritten: str | None = None,
) -> Reroute:
    """The change that makes `path` (the new branch after the fork, oldest first) active: what of
    the active branch it does not share leaves, with its count of children settled (off the
    branch no active child tells it), the rest of the path returns (with the count dropped where
    the branch tells it again; not the message whose record the change `rewritten` rewrites, as
    it read it), and the summaries follow the messages they run through."""
    shared = 0
    for active, wanted in zip(active_after, path, strict=False):
        if active.id != wanted.id:
            break
        shared += 1
    leaving = active_after[shared:]
    returning = path[shared:]
    settled = [
        _settled(node, leaving[at + 1] if at + 1 < len(leaving) else None) for at, node in enumerate(leaving)
    ]
    returning = [
        node
        if node.id == rewritten
        else _compact(node, returning[at + 1] if at + 1 < len(returning) else None)
        for at, node in enumerate(returning)
    ]
    leaving_ids = {node.id for node in leaving}
    returning_summaries = [summaries[node.id] for node in returning if node.id in summaries]
    return Reroute(
        leaving=list(reversed(settled)),
        returning=returning,
        fork=active_after[shared - 1].id if shared else fork,
        summary_leaving=summary
        if summary is not None and summary.through_message_id in leaving_ids
        else None,
        summary_returning=returning_summaries[-1] if returning_summaries else None,
    )


def place_new(placement: Placement, new: list[Message], summary: RunningSummary | None) -> Reroute:
    """The change that puts `new` (a message and what follows it) under the placement's parent,
    the newest of its children, on the active branch."""
    change = reroute_to(
        placement.fork,
        placement.active_after,
        placement.chain,
        summary,
        placement.summaries,
        rewritten=placement.parent_id,
    )
    first = new[0]
    first.parent_id = placement.parent_id
    newest = placement.newest
    change.new = [(first, Kin(index=placement.children + 1, previous=newest.id if newest else None))]
    change.new += [(message, Kin()) for message in new[1:]]
    parent = placement.parent
    counted = replace(placement.kin, children=placement.children + 1, newest_child=first.id)
    change.kin[placement.parent_id] = KinChange(
        placement.kin, counted, active=parent is not None and parent.active
    )
    if newest is not None:
        leaving = {node.id: node for node in change.leaving}
        before = leaving[newest.id].kin if newest.id in leaving else newest.kin
        change.kin[newest.id] = KinChange(before, replace(before, next=first.id), active=newest.active)
    return change


def _compact(node: Node, active_child: Node | None) -> Node:
    """A message joining the active branch, without a count its place there tells: a message with
    no child but the next one on the branch (or none, at its top) records nothing."""
    kin = node.kin
    if kin.children is None or kin.children > 1:
        return node
    if kin.newest_child != (active_child.id if active_child is not None else None):
        return node
    return Node(node.message, replace(kin, children=None, newest_child=None), node.active)


def _settled(node: Node, active_child: Node | None) -> Node:
    """A message leaving the active branch, with its count of children made explicit."""
    if node.kin.children is not None:
        return node
    kin = replace(
        node.kin, children=node.kin.children_now(active_child), newest_child=node.kin.newest_now(active_child)
    )
    return Node(node.message, kin, node.active)
