"""Bodies of the chats API (`/api/chats`, document 002): camelCase, wrapped in `data`. A chat is
a conversation seen through this API (DESIGN §4)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from parley.models.api.feedback import ChatFeedback
from parley.models.domain import Conversation, Message

UUID_FORMAT: JsonDict = {"format": "uuid"}


class CreateChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200)
    modelId: str | None = Field(None, min_length=1, max_length=100)


class Chat(BaseModel):
    id: str = Field(json_schema_extra=UUID_FORMAT)
    userId: str
    title: str | None
    modelId: str
    createdAt: str

    @classmethod
    def of(cls, conversation: Conversation) -> Chat:
        return cls(
            id=conversation.id,
            userId=conversation.user_id,
            title=conversation.title,
            modelId=conversation.model,
            createdAt=conversation.created_at,
        )


class ChatEnvelope(BaseModel):
    data: Chat


class CreateChatMessageRequest(BaseModel):
    """Document 002's body: `content`, `modelId` and `userId` required, `workflowId` optional."""

    content: str = Field(min_length=1)
    modelId: str = Field(min_length=1, max_length=100)
    userId: str = Field(min_length=1, max_length=200)
    workflowId: str | None = Field(None, json_schema_extra=UUID_FORMAT)
    stream: bool | None = Field(
        None,
        description="true: answer as server-sent events (`delta`s, then `done` with this route's "
        "201 body; errors before the first byte are ordinary JSON responses). Same as "
        "`Accept: text/event-stream`.",
    )


class ChatMessage(BaseModel):
    id: str = Field(json_schema_extra=UUID_FORMAT)
    chatId: str = Field(json_schema_extra=UUID_FORMAT)
    role: str
    content: str
    createdAt: str
    feedback: ChatFeedback | None = Field(None, description="The user's rating of a response, when given.")

    @classmethod
    def of(cls, message: Message) -> ChatMessage:
        return cls(
            id=message.id,
            chatId=message.conversation_id,
            role=message.role,
            content=message.content,
            createdAt=message.created_at,
            feedback=ChatFeedback.of(message.feedback) if message.feedback else None,
        )


class SentChatMessage(ChatMessage):
    response: ChatMessage


class SentChatMessageEnvelope(BaseModel):
    data: SentChatMessage


class ChatMessagePage(BaseModel):
    data: list[ChatMessage]
    nextCursor: str | None = Field(description="Pass as `cursor` for older messages; null on the first page.")
