"""Every response of the two conversation seed endpoints validated against the JSON schemas
copied from their documents (tests/contract/schemas), and the request schema checked to agree
with what the API accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests.conftest import TokenFactory

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).parent / "schemas"


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    return Draft202012Validator(schema, format_checker=FormatChecker())


def assert_matches(name: str, document: Any) -> None:
    errors = sorted(validator(name).iter_errors(document), key=str)
    assert not errors, f"{name}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)


@pytest.fixture
def alice(auth: TokenFactory) -> dict[str, str]:
    return auth("alice")


@pytest.fixture
def conversation_id(api: httpx.Client, alice: dict[str, str]) -> str:
    return str(
        api.post("/v1/conversations", json={"system_prompt": "Be brief."}, headers=alice).json()[
            "conversation"
        ]["id"]
    )


@pytest.mark.parametrize(
    "body",
    [
        {"role": "user", "content": "Hello"},
        {"role": "system", "content": "Answer in French.", "mode": "append"},
        {"role": "assistant", "content": "Bonjour", "metadata": {"source": "import"}},
        {"role": "tool", "content": '{"temp": 21}', "tool_calls": [{"id": "call_1", "type": "function"}]},
        {"role": "user", "content": "And tomorrow?", "mode": "chat-completion"},
    ],
)
def test_append_responses_match_document_000(
    api: httpx.Client, alice: dict[str, str], conversation_id: str, body: dict[str, Any]
) -> None:
    response = api.post(f"/v1/conversations/{conversation_id}/messages", json=body, headers=alice)

    assert response.status_code == 200
    assert_matches("conversation_messages_append.200", response.json())
    assert (response.json()["assistant_message"] is not None) == (body.get("mode") == "chat-completion")


def test_history_responses_match_document_001(
    api: httpx.Client, alice: dict[str, str], conversation_id: str
) -> None:
    url = f"/v1/conversations/{conversation_id}/messages"
    empty = api.get(url, headers=alice)
    api.post(url, json={"role": "user", "content": "Hi", "mode": "chat-completion"}, headers=alice)
    full = api.get(url, params={"limit": 200}, headers=alice)

    for response in (empty, full):
        assert response.status_code == 200
        assert_matches("conversation_messages_list.200", response.json())
    assert full.json()["total"] == 2


def test_not_found_and_bad_input_match_the_error_schema(api: httpx.Client, alice: dict[str, str]) -> None:
    missing = "0192f5c8-0000-7000-8000-000000000000"

    append_404 = api.post(
        f"/v1/conversations/{missing}/messages", json={"role": "user", "content": "x"}, headers=alice
    )
    list_404 = api.get(f"/v1/conversations/{missing}/messages", headers=alice)
    bad = api.post(f"/v1/conversations/{missing}/messages", json={"role": "user"}, headers=alice)

    assert append_404.status_code == list_404.status_code == 404
    assert_matches("conversation_messages_append.404", append_404.json())
    assert_matches("conversation_messages_list.404", list_404.json())
    assert bad.status_code == 400
    assert_matches("conversation_messages_append.404", bad.json())  # the one error shape


REQUESTS = [
    {"role": "user", "content": "ok"},
    {"role": "tool", "content": "ok", "mode": "append"},
    {"role": "user", "content": "extra fields are allowed by the schema", "note": 1},
    {"role": "user", "content": ""},
    {"role": "user"},
    {"content": "no role"},
    {"role": "moderator", "content": "x"},
    {"role": "user", "content": "x", "mode": "batch"},
    {"role": "user", "content": 42},
    {"role": None, "content": "x"},
    [],
    "just a string",
]


@pytest.mark.parametrize("body", REQUESTS, ids=[json.dumps(b)[:40] for b in REQUESTS])
def test_the_api_accepts_exactly_what_the_request_schema_accepts(
    api: httpx.Client, alice: dict[str, str], conversation_id: str, body: Any
) -> None:
    valid = validator("conversation_messages_append.request").is_valid(body)

    response = api.post(f"/v1/conversations/{conversation_id}/messages", json=body, headers=alice)

    assert response.status_code == (200 if valid else 400), response.text
