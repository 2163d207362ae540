"""PATCH active_message_id: the branch through a message becomes the active one."""

from __future__ import annotations

from parley.auth.principal import CONVERSATIONS_WRITE, Principal
from parley.errors import ConversationNotFound, MessageNotFound
from parley.logic.access import CONVERSATIONS
from parley.logic.branching.changes import commit
from parley.logic.branching.plans import reroute_to
from parley.logic.branching.tree import TreeReader
from parley.logic.limits import require_uuid
from parley.models.api.conversations import UpdateConversationRequest
from parley.models.domain import Conversation
from parley.models.tree import Head, Reroute
from parley.store.branch_moves import BranchStore
from parley.store.conversations import ConversationStore


def switch_branch(
    principal: Principal,
    conversation_id: str,
    request: UpdateConversationRequest,
    *,
    store: ConversationStore,
    branches: BranchStore,
) -> Conversation:
    """Make the branch through `active_message_id` active: the message, its ancestors, and below
    it each time the newest child. Unknown to the conversation: a 404. It reads the messages on
    the new path and the active branch below the fork, whatever else the tree holds."""
    principal.require(CONVERSATIONS_WRITE)
    conversation_id = require_uuid(conversation_id, "conversation_id")
    target = require_uuid(request.active_message_id, "active_message_id")
    conversation = store.get(conversation_id)
    CONVERSATIONS.require_access(conversation_id, conversation, principal)
    assert conversation is not None

    def plan(head: Head) -> Reroute:
        reader = TreeReader(branches, conversation_id, head)
        found = reader.node(target)
        if found is None:
            raise MessageNotFound(target)
        fork, chain = (target, []) if found.active else reader.chain_to(target)
        active_after = reader.active_after(fork)
        path = [*chain, *reader.newest_descendants(chain[-1] if chain else found, active_after)]
        returning = [node.id for node in path if not node.active]
        summaries = branches.archived_summaries(conversation_id, returning) if returning else {}
        return reroute_to(fork, active_after, path, conversation.summary, summaries)

    head = branches.head(conversation_id)
    if head is None:
        raise ConversationNotFound(conversation_id)
    commit(branches, conversation_id, head, plan)
    switched = store.get(conversation_id)
    assert switched is not None
    return switched
