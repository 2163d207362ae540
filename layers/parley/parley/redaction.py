"""Credentials out of everything logged: the secret values the container holds, and what looks
like a credential wherever it comes from (a provider or proxy that echoes the request's headers
in its error body, an exception's text)."""

from __future__ import annotations

import logging
import os
import re

REDACTED = "[redacted]"
# Settings whose values are credentials; a value shorter than this is too common to look for.
SECRET_SETTINGS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_SHORTEST_SECRET = 8
_PATTERNS = (
    # "Authorization: Bearer …", "x-api-key: …", "api_key=…", JSON's "password": "…"
    re.compile(
        r"(?i)((?:authorization|x-api-key|api[_-]?key|access[_-]?key|secret|password|token|cookie)"
        r"[\"']?\s*[:=]\s*[\"']?(?:bearer\s+|basic\s+)?)[^\s\"',;}]+"
    ),
    re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"()\bsk-[A-Za-z0-9_-]{8,}"),  # OpenAI and Anthropic keys
    re.compile(r"()\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access key ids
    re.compile(r"()\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # JWTs
)


def redact(text: str, secrets: tuple[str, ...] | None = None) -> str:
    """`text` with every known secret value and every credential-looking token replaced."""
    for secret in secrets if secrets is not None else configured_secrets():
        if len(secret) >= _SHORTEST_SECRET:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


def configured_secrets() -> tuple[str, ...]:
    return tuple(value for name in SECRET_SETTINGS if (value := os.environ.get(name)))


_STANDARD = frozenset(vars(logging.makeLogRecord({})))


class RedactingFilter(logging.Filter):
    """Redacts a record's message, its string extras and its exception's text before any
    handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = configured_secrets()
        if isinstance(record.msg, str):
            record.msg = redact(record.msg, secrets)
        if record.args:
            record.msg, record.args = redact(record.getMessage(), secrets), ()
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, redact(value, secrets))
            elif name not in _STANDARD and isinstance(value, list | dict):
                setattr(record, name, _redact_nested(value, secrets))
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters print an exception from exc_info itself: one that carries a secret is
            # logged as its redacted text instead.
            text = logging.Formatter().formatException(record.exc_info)
            if (clean := redact(text, secrets)) != text:
                record.msg, record.exc_info, record.exc_text = f"{record.msg}\n{clean}", None, None
        return True


def _redact_nested(value: object, secrets: tuple[str, ...]) -> object:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [_redact_nested(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: _redact_nested(item, secrets) for key, item in value.items()}
    return value
