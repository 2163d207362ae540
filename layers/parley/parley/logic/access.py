"""Whose conversation it is, asked once per API style: the conversations API (documents 000 and
001) reads another user's conversation as missing, a 404 that says nothing of its existence; the
chats API (document 002) answers a 403 for another user's chat, as its document says. Each style
also names the ids in its own case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from parley.auth.principal import Principal
from parley.errors import ChatNotFound, ConversationNotFound, Forbidden, ParleyError
from parley.models.domain import Conversation


@dataclass(frozen=True)
class AccessPolicy:
    conversation_param: str
    message_param: str
    missing: Callable[[str], ParleyError]
    not_yours: Callable[[str], ParleyError]

    def require_owner(self, conversation_id: str, owner: str | None, caller: str) -> None:
        """`owner` is None when there is no such conversation."""
        if owner is None:
            raise self.missing(conversation_id)
        if owner != caller:
            raise self.not_yours(conversation_id)

    def require_access(
        self,
        conversation_id: str,
        conversation: Conversation | None,
        principal: Principal,
        speaker: str | None = None,
    ) -> Conversation:
        """The conversation, if it is the caller's (or `speaker`'s, whom an ai:act-as token speaks
        for) and in a brand the token grants now: access follows the token's current brands, so a
        token that lost a brand can no longer generate in, rate or export its conversations."""
        self.require_owner(
            conversation_id, conversation.user_id if conversation else None, speaker or principal.user_id
        )
        assert conversation is not None
        if conversation.brand_id is not None:
            principal.require_brand(conversation.brand_id)
        return conversation


def _chat_of_another(_: str) -> ParleyError:
    return Forbidden("This chat belongs to another user.")


CONVERSATIONS = AccessPolicy("conversation_id", "message_id", ConversationNotFound, ConversationNotFound)
CHATS = AccessPolicy("chatId", "messageId", ChatNotFound, _chat_of_another)
