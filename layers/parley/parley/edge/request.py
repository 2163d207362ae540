"""One view of an API Gateway proxy event, read once: the method, the headers by lower-case name
(the last value of a repeated one, as API Gateway's `headers` has it), and the body as text
(decoded when API Gateway sent it base64) and, when it is a JSON object, parsed."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class RequestView:
    event: dict[str, Any]

    @property
    def method(self) -> str:
        return str(self.event.get("httpMethod") or "").upper()

    @cached_property
    def headers(self) -> dict[str, str]:
        return {str(name).lower(): str(value) for name, value in (self.event.get("headers") or {}).items()}

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @cached_property
    def body(self) -> str:
        text = self.event.get("body") or ""
        if self.event.get("isBase64Encoded"):
            return base64.b64decode(text).decode("utf-8", "replace")
        return str(text)

    @cached_property
    def json_object(self) -> dict[str, Any]:
        """The body parsed, when it is a JSON object; {} otherwise (the route says what is wrong)."""
        try:
            parsed = json.loads(self.body) if self.body else None
        except (ValueError, RecursionError):
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @property
    def authorizer(self) -> dict[str, Any]:
        return dict((self.event.get("requestContext") or {}).get("authorizer") or {})
