"""The one error shape every API answers with."""

from __future__ import annotations

from pydantic import BaseModel


class ErrorBody(BaseModel):
    error: str
    message: str
