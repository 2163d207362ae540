"""Credentials never reach the log: known secret values and credential-looking tokens are
replaced in a record's message, extras and exception, whatever logged them."""

from __future__ import annotations

import json

import pytest

from parley.observability import logger
from parley.redaction import REDACTED, redact

KEY = "sk-live-0123456789abcdefghij"


@pytest.mark.parametrize(
    "text",
    [
        '{"error": {"message": "bad request", "headers": {"authorization": "Bearer abcdefghijklmnop"}}}',
        "echo: x-api-key: s3cr3t-value-42",
        '{"api_key": "plain-secret-value"}',
        "key sk-ant-api03-abcdefghijklmnop was refused",
        "AKIAABCDEFGHIJKLMNOP used",
        "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl",
    ],
)
def test_credential_shapes_are_redacted(text: str) -> None:
    cleaned = redact(text, secrets=())

    assert REDACTED in cleaned
    for secret in (
        "abcdefghijklmnop",
        "s3cr3t-value-42",
        "plain-secret-value",
        "AKIAABCDEFGHIJKLMNOP",
        "c2lnbmF0dXJl",
    ):
        assert secret not in cleaned


def test_words_that_are_not_credentials_stay() -> None:
    text = "The model's maximum context length is 16385 tokens (status 400)."

    assert redact(text, secrets=()) == text


def test_a_configured_secret_is_redacted_wherever_it_appears_in_a_record(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "custom-key-without-a-known-shape")

    logger.warning(
        "provider said custom-key-without-a-known-shape",
        extra={"detail": "echo custom-key-without-a-known-shape", "nested": {"h": [KEY]}},
    )
    try:
        raise ValueError(f"failed with custom-key-without-a-known-shape and {KEY}")
    except ValueError:
        logger.exception("it failed")

    warning, error = caplog.records[-2:]
    logged = caplog.text + json.dumps([warning.__dict__.get("detail"), warning.__dict__.get("nested")])
    assert "custom-key-without-a-known-shape" not in logged and KEY not in logged
    assert REDACTED in warning.getMessage() and REDACTED in warning.__dict__["detail"]
    assert "ValueError" in error.getMessage()  # the exception is still there, redacted
