"""`{{name}}` placeholders in prompt templates and workflow steps, expanded once."""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def expand_placeholders(template: str, values: dict[str, str]) -> str:
    """Replace each `{{name}}` of `values` in one pass: text that a value brings in (a retrieved
    chunk containing `{{brand_id}}`, a user's input containing `{{previous}}`) stays literal."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)
