"""Cross-site requests with the session cookie: a write that carries only the cookie must come
from Parley's own origin or an allowed one, as JSON; it is refused with a 4xx and writes nothing
otherwise. Bearer-token requests and clients that are no browser are unaffected."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from local.token import mint
from tests.conftest import LocalStack

pytestmark = pytest.mark.integration

ALLOWED = "https://app.example.com"


@pytest.fixture(autouse=True)
def allowed_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", ALLOWED)


def create(api: httpx.Client, headers: dict[str, str], body: bytes = b'{"title": "t"}') -> httpx.Response:
    return api.post("/v1/conversations", content=body, headers=headers)


def conversations(api: httpx.Client, token: str) -> int:
    listed = api.get("/v1/conversations", headers={"Authorization": f"Bearer {token}"})
    return len(listed.json()["conversations"])


@pytest.mark.parametrize(
    ("origin", "content_type", "status", "error"),
    [
        ("https://evil.example", "text/plain", 403, "cross_site_request"),
        ("https://evil.example", "application/json", 403, "cross_site_request"),
        ("null", "application/json", 403, "cross_site_request"),  # a sandboxed frame, a file: page
        ("own", "text/plain", 415, "unsupported_media_type"),
        (ALLOWED, "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_a_cookie_write_from_a_foreign_origin_or_not_json_is_refused_and_writes_nothing(
    api: httpx.Client, local_stack: LocalStack, origin: str, content_type: str, status: int, error: str
) -> None:
    token = mint(f"victim-{uuid.uuid4().hex[:8]}", [])
    own = f"http://{urlsplit(local_stack.url).netloc}"
    headers = {
        "Cookie": f"session={token}",
        "Origin": own if origin == "own" else origin,
        "Content-Type": content_type,
    }

    refused = create(api, headers)

    assert refused.status_code == status
    assert refused.json()["error"] == error
    assert conversations(api, token) == 0


@pytest.mark.parametrize("origin", ["own", ALLOWED, None])
def test_a_cookie_write_from_its_own_or_an_allowed_origin_or_no_browser_is_served(
    api: httpx.Client, local_stack: LocalStack, origin: str | None
) -> None:
    token = mint(f"user-{uuid.uuid4().hex[:8]}", [])
    headers = {"Cookie": f"session={token}", "Content-Type": "application/json"}
    if origin is not None:
        headers["Origin"] = f"http://{urlsplit(local_stack.url).netloc}" if origin == "own" else origin

    assert create(api, headers).status_code == 201
    assert conversations(api, token) == 1


def test_a_bearer_token_write_is_unaffected_by_origin_and_content_type(api: httpx.Client) -> None:
    token = mint(f"bearer-{uuid.uuid4().hex[:8]}", [])
    headers = {
        "Authorization": f"Bearer {token}",
        "Origin": "https://evil.example",
        "Content-Type": "text/plain",
    }

    assert create(api, headers).status_code == 201


def test_the_openai_route_refuses_in_openai_shape(api: httpx.Client) -> None:
    token = mint(f"oa-{uuid.uuid4().hex[:8]}", [])
    refused = api.post(
        "/v1/chat/completions",
        content=b'{"model": "parley-offline", "messages": [{"role": "user", "content": "hi"}]}',
        headers={
            "Cookie": f"session={token}",
            "Origin": "https://evil.example",
            "Content-Type": "text/plain",
        },
    )

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "cross_site_request"
