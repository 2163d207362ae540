"""Where a change of branch goes, worked out from what is stored (no I/O here): the path to a
message, the newest descendants below it, each message's siblings, and the `Reroute` that moves
the active branch onto a new path."""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.models.domain import RunningSummary
from parley.store.branches import Node, Reroute


@dataclass
class Tree:
    """What a change knows of the tree: the active branch from `fork` on (the nodes after it,
    oldest first; `fork` None: the whole branch) and what is off it."""

    fork: str | None
    active_after: list[Node]
    archived: dict[str, Node] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # On the active branch a message follows the one before it; the first here, the fork.
        parent = self.fork
        for node in self.active_after:
            node.message.parent_id, parent = parent, node.id

    def children(self, parent: str | None) -> list[Node]:
        """Every child of `parent` (None: the first messages of branches) that this view holds,
        oldest first: its archived ones, and its active one if it is the fork."""
        found = [node for node in self.archived.values() if node.parent_id == parent]
        if parent == self.fork and self.active_after:
            found.append(self.active_after[0])
        for earlier, later in zip(self.active_after, self.active_after[1:], strict=False):
            if earlier.id == parent:
                found.append(later)
        return sorted(found, key=lambda node: node.id)  # UUIDv7: creation order

    def sibling_ids(self, parent: str | None) -> list[str]:
        """The ids of `parent`'s children. The fork's active child knows all of them (its stored
        siblings are kept exact while it is active), archived ones this view did not read too."""
        ids = {node.id for node in self.children(parent)}
        if parent == self.fork and self.active_after:
            ids |= set(self.active_after[0].siblings)
        return sorted(ids)


def archived_path(target: str, archived: dict[str, Node]) -> tuple[str | None, list[Node]]:
    """The archived messages from the active branch down to `target` (oldest first) and the active
    message they hang from (None: they start a branch of their own)."""
    chain: list[Node] = []
    node: Node | None = archived[target]
    while node is not None:
        chain.append(node)
        parent = node.parent_id
        node = archived.get(parent) if parent is not None else None
        if node is None:
            chain.reverse()
            return parent, chain
    raise AssertionError("unreachable")


def newest_descendants(tree: Tree, start: str) -> list[Node]:
    """From `start` down, each time its newest child: the branch PATCH active_message_id makes
    active ("it and its newest descendants")."""
    path: list[Node] = []
    parent = start
    while children := tree.children(parent):
        path.append(children[-1])
        parent = children[-1].id
    return path


def reroute_to(
    tree: Tree, path: list[Node], summary: RunningSummary | None, summaries: dict[str, RunningSummary]
) -> Reroute:
    """The change that makes `path` (the new branch after the fork, oldest first) active: what of
    the active branch it does not share leaves, the rest of it returns, and the summaries follow
    the messages they run through."""
    shared = 0
    for active, wanted in zip(tree.active_after, path, strict=False):
        if active.id != wanted.id:
            break
        shared += 1
    leaving = tree.active_after[shared:]
    returning = path[shared:]
    leaving_ids = {node.id for node in leaving}
    returning_summaries = [summaries[node.id] for node in returning if node.id in summaries]
    return Reroute(
        leaving=list(reversed(leaving)),
        returning=[(node, tree.sibling_ids(node.parent_id)) for node in returning],
        fork=tree.active_after[shared - 1].id if shared else tree.fork,
        summary_leaving=summary
        if summary is not None and summary.through_message_id in leaving_ids
        else None,
        summary_returning=returning_summaries[-1] if returning_summaries else None,
    )
