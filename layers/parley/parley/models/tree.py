"""A conversation as a tree of messages: what each stored message knows of its siblings and its
children, the head of the active branch, and a change of the active branch. Every message keeps
a constant-size record (its place among its siblings, its neighbours, its children's count and
newest), so a message with two thousand siblings costs an append or a switch what one with two
does."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from parley.models.domain import Branch, Message, RunningSummary


@dataclass(frozen=True)
class Kin:
    """One message's record of its family. `children` None: never counted, so at most one, the
    message after it on the active branch (a plain append records nothing: it reads nothing);
    a message keeps an exact count from its second child on, and from when it leaves the active
    branch. `legacy` is the whole sibling list a message stored before this record existed."""

    index: int = 1  # 1-based among its siblings, in the order they were made
    previous: str | None = None  # the sibling made just before it
    next: str | None = None  # the sibling made just after it
    children: int | None = None
    newest_child: str | None = None
    legacy: tuple[str, ...] | None = None

    @classmethod
    def from_legacy(cls, message_id: str, siblings: list[str]) -> Kin:
        ids = sorted({*siblings, message_id})
        at = ids.index(message_id)
        return cls(
            index=at + 1,
            previous=ids[at - 1] if at else None,
            next=ids[at + 1] if at + 1 < len(ids) else None,
            legacy=tuple(ids),
        )

    def with_child(self, child: str, active_child: Node | None) -> Kin:
        """This record once `child` is made under it (`active_child`: its child on the active
        branch, if it has one)."""
        return replace(self, children=self.children_now(active_child) + 1, newest_child=child)

    def children_now(self, active_child: Node | None) -> int:
        """How many children it has, known from this record and the one active child, if any."""
        if active_child is None:
            return self.children or 0
        return siblings_count(self, active_child.kin)

    def newest_now(self, active_child: Node | None) -> str | None:
        if self.newest_child is not None:
            return self.newest_child
        if active_child is not None and active_child.kin.legacy is not None:
            return active_child.kin.legacy[-1]
        return active_child.id if active_child is not None else None


def siblings_count(parent: Kin, child: Kin) -> int:
    """How many children `parent` has, `child` one of them: its count, once recorded; before
    that, the child's sibling list from before records, or the child alone."""
    if parent.children is not None:
        return parent.children
    return len(child.legacy) if child.legacy is not None else 1


def branch_of(kin: Kin, siblings: int | None) -> Branch:
    """The API's view of a message's place: `siblings`, its parent's count of children, when read."""
    count = siblings if siblings is not None else siblings_count(Kin(), kin)
    return Branch(index=kin.index, count=max(count, kin.index), previous_id=kin.previous, next_id=kin.next)


@dataclass
class Node:
    """A stored message as a change of branch sees it: the message (with its parent), its record,
    and whether it is on the active branch."""

    message: Message
    kin: Kin
    active: bool

    @property
    def id(self) -> str:
        return self.message.id

    @property
    def parent_id(self) -> str | None:
        return self.message.parent_id


@dataclass(frozen=True)
class Head:
    """The top of the active branch as ~META records it: what a change is conditioned on, and the
    record of the first messages' family (the conversation's children)."""

    owner: str
    top: str | None  # the active branch's newest message ("" or None: none)
    count: int  # its length
    recorded: bool  # ~META names the top (a conversation written before branches does not)
    roots: Kin = field(default_factory=Kin)  # `children` and `newest_child`: the first messages


@dataclass(frozen=True)
class KinChange:
    """A stored message's record rewritten by a change: written with its last transaction, on
    the condition that what it replaces is still there (another change made in between fails
    it, and the change is planned again)."""

    before: Kin
    after: Kin
    active: bool = False  # where the message is stored when the change is planned


@dataclass
class Reroute:
    """One change of the active branch. `leaving`: active messages newest first; `returning`:
    archived messages oldest first; `new`: messages after them, in order, with their records;
    `kin`: records of stored messages it rewrites by id (None: the first messages' record, kept
    on ~META)."""

    leaving: list[Node] = field(default_factory=list)
    returning: list[Node] = field(default_factory=list)
    new: list[tuple[Message, Kin]] = field(default_factory=list)
    kin: dict[str | None, KinChange] = field(default_factory=dict)
    fork: str | None = None  # the active message the branch keeps up to (None: none, a new root)
    summary_leaving: RunningSummary | None = None  # the active one, when its last message leaves
    summary_returning: RunningSummary | None = None  # an archived one whose last message returns


def family_records(parents: dict[str, str | None]) -> tuple[dict[str, Kin], Kin]:
    """Every message's record, given each one's parent (a whole tree: an import or an export),
    and the first messages' record. Siblings are in the order of their ids (UUIDv7: made)."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for message_id, parent in parents.items():
        children[parent].append(message_id)
    records: dict[str, Kin] = {}
    for siblings in children.values():
        siblings.sort()
        for at, message_id in enumerate(siblings):
            records[message_id] = Kin(
                index=at + 1,
                previous=siblings[at - 1] if at else None,
                next=siblings[at + 1] if at + 1 < len(siblings) else None,
            )
    for message_id, record in records.items():
        own = children.get(message_id, [])
        records[message_id] = replace(record, children=len(own), newest_child=own[-1] if own else None)
    roots = children.get(None, [])
    return records, Kin(children=len(roots), newest_child=roots[-1] if roots else None)
