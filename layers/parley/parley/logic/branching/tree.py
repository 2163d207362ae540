"""Reading the tree around a change: the active branch below a message, a message wherever it
is, the archived messages from the active branch down to it, a message's newest descendants.
Each is a Query or a few BatchGetItems of the messages on the way, so their cost follows the
depth of the path, not how many siblings a message has. Only a conversation whose archived
messages predate family records needs its archive read whole (`_children_by_scan`)."""

from __future__ import annotations

from itertools import pairwise

from parley.errors import MessageNotFound
from parley.models.tree import Head, Kin, Node
from parley.store.branch_moves import BranchChanged, BranchStore


class TreeReader:
    """The reads of one plan of a change, each stored message read at most once."""

    def __init__(self, branches: BranchStore, conversation_id: str, head: Head) -> None:
        self.branches = branches
        self.conversation_id = conversation_id
        self.head = head
        self._found: dict[str, Node | None] = {}
        self._by_parent: dict[str | None, list[Node]] | None = None

    def active_after(self, fork: str | None) -> list[Node]:
        """The active messages after `fork` (None: the whole branch), oldest first, each with its
        parent. BranchChanged when `fork` is not (or no longer) on the active branch."""
        from_fork = self.branches.active_from(self.conversation_id, fork)
        if fork is not None and not from_fork:
            raise BranchChanged
        after = from_fork[1:] if fork is not None else from_fork
        parent = fork
        for node in after:
            node.message.parent_id, parent = parent, node.id
            self._found[node.id] = node
        return after

    def node(self, message_id: str) -> Node | None:
        if message_id not in self._found:
            found = self.branches.find(self.conversation_id, [message_id])
            self._found[message_id] = found.get(message_id)
        return self._found[message_id]

    def chain_to(self, message_id: str) -> tuple[str | None, list[Node]]:
        """The archived messages from the active branch down to `message_id` (oldest first) and
        the active message they hang from (None: they start a branch of their own). MessageNotFound
        when the message is neither active nor archived."""
        chain: list[Node] = []
        current = self.node(message_id)
        while current is not None and not current.active:
            chain.append(current)
            parent = current.parent_id
            if parent is None:
                return None, chain[::-1]
            current = self.node(parent)
        if current is None:
            if not chain:
                raise MessageNotFound(message_id)
            raise BranchChanged  # a parent in neither place: a move was under way
        return current.id, chain[::-1]

    def family(self, parent: Node | None, active_child: Node | None) -> tuple[Kin, int, str | None]:
        """`parent`'s record (None: the first messages', on ~META), its count of children and its
        newest child's id; `active_child` is its child on the active branch, if any."""
        kin = parent.kin if parent is not None else self.head.roots
        if kin.children is None and parent is not None and not parent.active:
            children = self._children_by_scan().get(parent.id, [])
            return kin, len(children), children[-1].id if children else None
        return kin, kin.children_now(active_child), kin.newest_now(active_child)

    def newest_descendants(self, start: Node, active_after: list[Node]) -> list[Node]:
        """From `start` down, each time its newest child: the branch PATCH active_message_id makes
        active ("it and its newest descendants"). `active_after`: the active branch after the
        fork, whose messages' only recorded child may be the next of them."""
        active_next = {earlier.id: later for earlier, later in pairwise(active_after)}
        path: list[Node] = []
        current = start
        while True:
            active_child = active_next.get(current.id) if current.active else None
            if (
                current.active
                and active_child is None
                and active_after
                and current.id == active_after[0].parent_id
            ):
                active_child = active_after[0]
            _, _, newest = self.family(current, active_child)
            if newest is None:
                return path
            child = (
                active_child if active_child is not None and active_child.id == newest else self.node(newest)
            )
            if child is None:
                raise BranchChanged
            child.message.parent_id = current.id
            path.append(child)
            current = child

    def _children_by_scan(self) -> dict[str | None, list[Node]]:
        """Every archived message's children, from the whole archive: read only for messages
        archived before family records, which count nothing."""
        if self._by_parent is None:
            archived, _ = self.branches.archive(self.conversation_id)
            by_parent: dict[str | None, list[Node]] = {}
            for node in sorted(archived.values(), key=lambda n: n.id):
                by_parent.setdefault(node.parent_id, []).append(node)
            self._by_parent = by_parent
        return self._by_parent
