"""Key layout of the single table (DESIGN §4).

A conversation is one partition `CONV#<id>`:
    ALT#<uuid7>  a message off the active branch (an answer regenerated, a question edited, the
                 branch left by PATCH active_message_id), with its parent_id
    ALTSUM#<id>  the running summary of a branch that is not active, by its last message's id
    FB#<id>      the user's rating of message <id>
    MSG#<uuid7>  one item per message of the active branch, exactly those: uuid7 makes key order
                 creation order, and on one branch a message is always made after its parent, so
                 key order is the branch's order and each message follows the one before it
    ~META        small and hot: owner, message_count (the active branch's length), the active
                 message, updated_at (updated by every append)
    ~NOTES       the running summary of the active branch: what no longer fits the prompt
    ~PROFILE     cold and possibly large: title, model, system prompt, metadata; carries the
                 user-index keys, so appends never touch the index
`~` sorts after `M`, so a descending Query on `SK <= ~META` yields ~META then the newest messages
of the active branch, and one on `SK >= ~META` yields exactly the conversation items. Changing
branch moves messages between MSG# and ALT# (the same id), so reading the active branch never
reads another one; an append is one write whatever the tree holds.
"""

from __future__ import annotations

import json

META = "~META"
NOTES = "~NOTES"
FEEDBACK_PREFIX = "FB#"  # FB#<message id>: a rating of that message; sorts below every MSG# key
PROFILE = "~PROFILE"
MESSAGE_PREFIX = "MSG#"
ARCHIVE_PREFIX = "ALT"  # both kinds of item off the active branch
ARCHIVED_MESSAGE_PREFIX = "ALT#"
ARCHIVED_SUMMARY_PREFIX = "ALTSUM#"
USER_INDEX = "GSI1"


def conversation_pk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def message_sk(message_id: str) -> str:
    return f"{MESSAGE_PREFIX}{message_id}"


def archived_message_sk(message_id: str) -> str:
    return f"{ARCHIVED_MESSAGE_PREFIX}{message_id}"


def archived_summary_sk(through_message_id: str) -> str:
    return f"{ARCHIVED_SUMMARY_PREFIX}{through_message_id}"


def feedback_sk(message_id: str) -> str:
    return f"{FEEDBACK_PREFIX}{message_id}"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def user_sk(created_at: str, conversation_id: str) -> str:
    return f"{created_at}#{conversation_id}"


def connection_pk(brand_id: str, user_id: str) -> str:
    """A user's own MCP credentials in a brand (parley.store.connections). The brand's length
    comes first, so no brand and user pair reads as another whatever characters they hold."""
    return f"CONN#{len(brand_id)}:{brand_id}#{user_id}"


def workflow_pk(workflow_id: str) -> str:
    return f"WF#{workflow_id}"


def template_pk(brand_id: str, template_id: str) -> str:
    return f"TPL#{brand_id}#{template_id}"


def template_sk(version: int) -> str:
    """Zero-padded so versions sort by number: the latest is a descending Query with Limit 1."""
    return f"V#{version:06d}"


def assistant_pk(assistant_id: str) -> str:
    return f"AST#{assistant_id}"


def brand_assistants_pk(brand_id: str) -> str:
    """A brand's assistants in the user index (GSI1): listed as models by GET /v1/models."""
    return f"BRANDAST#{brand_id}"


def brand_documents_pk(brand_id: str) -> str:
    """A brand's documents in the user index (GSI1), sorted by scope then id: GET /v1/ai/documents."""
    return f"BRANDDOC#{brand_id}"


def brand_documents_sk(rag_scope: str, document_id: str) -> str:
    return json.dumps([rag_scope, document_id], separators=(",", ":"))


def scope_documents_prefix(rag_scope: str) -> str:
    """The sort-key prefix of a scope's documents: `["<scope>",`."""
    return json.dumps([rag_scope], separators=(",", ":"))[:-1] + ","


def document_pk(brand_id: str, rag_scope: str, document_id: str) -> str:
    """The three ids as a JSON array: whatever characters they hold, no two documents (of one
    brand or of two) share a key."""
    return "DOC#" + json.dumps([brand_id, rag_scope, document_id], separators=(",", ":"))


# The work index (GSI2, keys only): each conversation's ~META sits in exactly one of two sparse
# sets, spread over a few shards so no index partition runs hot:
#   ACTIVE#<shard> / <check day>#<id>   the cleanup looks at it once the check day is past the
#                                       retention cutoff: expires it, or moves the check day on
#   PURGE#<shard>  / <deleted_at>#<id>  hidden (deleted), waiting to be purged
# Appends never write this index (it would cost them an index write): the check day starts as
# the creation day and only the cleanup job moves it.
WORK_INDEX = "GSI2"
SHARDS = 8


def shard(conversation_id: str) -> int:
    return int(conversation_id[-2:], 16) % SHARDS  # the UUID's last digits are random


def activity_pk(conversation_id: str) -> str:
    return f"ACTIVE#{shard(conversation_id)}"


def activity_sk(day: str, conversation_id: str) -> str:
    return f"{day}#{conversation_id}"


def purge_pk(conversation_id: str) -> str:
    return f"PURGE#{shard(conversation_id)}"


# Usage and quotas: one partition per brand (unbranded conversations share one of their own).
#   D#<day>          the brand's day: total tokens, cost and requests, and per model tokens/cost/calls
#   U#<day>#<user>   one user's tokens that day in that brand (kept a few days, for the budget)
#   ~QUOTA           the brand's budget overrides
# A usage report is one Query on the D# range; no item grows with the number of users.
QUOTA = "~QUOTA"


def usage_pk(brand_id: str | None) -> str:
    return f"USAGE#{brand_id}" if brand_id is not None else "USAGE~"  # `~`: no brand id can collide


def usage_day_sk(day: str) -> str:
    return f"D#{day}"


def usage_user_sk(day: str, user_id: str) -> str:
    return f"U#{day}#{user_id}"


def response_pk(response_id: str) -> str:
    """A stored response of the Responses API (parley.store.responses)."""
    return f"RESP#{response_id}"
