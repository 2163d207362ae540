"""The caller as the functions see it: built from the authorizer's context, never from the token."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from parley.errors import Forbidden, InsufficientScope, Unauthorized

CONVERSATIONS_READ = "conversations:read"
CONVERSATIONS_WRITE = "conversations:write"
AI_CHAT = "ai:chat"
AI_INGEST = "ai:ingest"
ADMIN = "admin"
ACT_AS = "ai:act-as"
ALL_SCOPES = (CONVERSATIONS_READ, CONVERSATIONS_WRITE, AI_CHAT, AI_INGEST, ADMIN)


@dataclass(frozen=True)
class Principal:
    user_id: str
    brands: frozenset[str]
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise InsufficientScope(scope)

    def require_brand(self, brand_id: str) -> None:
        if brand_id not in self.brands:
            raise Forbidden(f"The token does not grant access to brand '{brand_id}'.")

    def to_context(self) -> dict[str, str]:
        """The authorizer context: API Gateway passes only flat string values through."""
        return {
            "sub": self.user_id,
            "brands": json.dumps(sorted(self.brands)),
            "scope": " ".join(sorted(self.scopes)),
        }

    @classmethod
    def from_context(cls, context: dict[str, Any] | None) -> Principal:
        if not context or not context.get("sub"):
            raise Unauthorized("The request carries no authenticated caller.")
        return cls(
            user_id=str(context["sub"]),
            brands=frozenset(json.loads(context.get("brands") or "[]")),
            scopes=frozenset(str(context.get("scope") or "").split()),
        )
