"""Feedback bodies: the conversations API's (snake_case) and the chats API's (camelCase, `data`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from parley.models.domain import Feedback


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000, description="What the user said about the answer.")
    reasons: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        None, max_length=10, description='Short tags the UI offers, e.g. ["inaccurate", "too long"].'
    )


class FeedbackEnvelope(BaseModel):
    feedback: Feedback


class ChatFeedback(BaseModel):
    rating: Literal["up", "down"]
    comment: str | None
    reasons: list[str] | None
    updatedAt: str  # noqa: N815 - the chats API's casing

    @classmethod
    def of(cls, feedback: Feedback) -> ChatFeedback:
        return cls(
            rating=feedback.rating,
            comment=feedback.comment,
            reasons=feedback.reasons,
            updatedAt=feedback.updated_at,
        )


class ChatFeedbackEnvelope(BaseModel):
    data: ChatFeedback
