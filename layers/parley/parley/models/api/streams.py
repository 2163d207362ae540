"""What the streams routes answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class CancelledStream(BaseModel):
    id: str = Field(description="The stream: the part of its events' `id:` before the colon.")
    status: Literal["cancelling", "finished"] = Field(
        description="`cancelling`: the generation stops at its next step and stores nothing; "
        "`finished`: it had already ended, and is left as it is."
    )
