"""Token counting without tokenizer files: a conservative estimate (never below the true count
for typical text), so prompts sized by it are never rejected for length."""

from __future__ import annotations

import math


def estimate_tokens(text: str) -> int:
    """About 3 bytes a token: real tokenizers average ~4 characters for English, fewer for code
    and non-Latin scripts, so counting UTF-8 bytes / 3 errs on the side of too many."""
    return math.ceil(len(text.encode("utf-8")) / 3)
