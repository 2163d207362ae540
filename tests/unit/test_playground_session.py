"""The playground's one route of its own (local gateway only): a development token for the user,
brands and scopes asked, the same as the `session` cookie; anything else is a 400; its assets are
served from local/playground/ and nothing outside it."""

from __future__ import annotations

import json

import jwt
import pytest

from local import playground
from local.settings import LOCAL_AUDIENCE, LOCAL_SECRET

OWN = {"host": "127.0.0.1:3000", "origin": "http://127.0.0.1:3000", "content-type": "application/json"}


def test_a_session_is_a_token_for_the_user_brands_and_scopes_asked() -> None:
    body = {"user_id": "alice", "brands": ["acme"], "scopes": ["conversations:read", "ai:chat"]}

    answer = playground.serve("POST", "/playground/session", json.dumps(body).encode(), OWN)

    assert answer is not None
    status, headers, payload = answer
    token = json.loads(payload)["token"]
    claims = jwt.decode(token, LOCAL_SECRET, algorithms=["HS256"], audience=LOCAL_AUDIENCE)
    assert status == 200
    assert (claims["sub"], claims["brands"], claims["scope"]) == (
        "alice",
        ["acme"],
        "conversations:read ai:chat",
    )
    assert headers["Set-Cookie"].startswith(f"session={token};")


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{}", b'{"user_id": ""}', b'{"user_id": "a", "scopes": ["root"]}', b"[1]"],
)
def test_a_malformed_session_request_is_a_400(body: bytes) -> None:
    answer = playground.serve("POST", "/playground/session", body, OWN)

    assert answer is not None and answer[0] == 400
    assert set(json.loads(answer[2])) == {"error", "message"}


def test_the_page_and_its_modules_are_served_and_nothing_else() -> None:
    page = playground.serve("GET", "/playground", b"")
    module = playground.serve("GET", "/playground/main.js", b"")
    escape = playground.serve("GET", "/playground/../playground.py", b"")

    assert page is not None and page[0] == 200 and b'role="log"' in page[2]
    assert module is not None and module[1]["Content-Type"].startswith("text/javascript")
    assert escape is not None and escape[0] == 404
    assert playground.serve("GET", "/v1/conversations", b"") is None


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"host": "evil.example:3000", "content-type": "application/json"}, 403),  # a rebound DNS name
        ({**OWN, "origin": "https://evil.example"}, 403),
        ({**OWN, "origin": "http://localhost:3000"}, 403),  # another origin than the host asked
        ({**OWN, "content-type": "text/plain"}, 415),  # what a cross-site form can send
        ({"host": "localhost:3000", "content-type": "application/json"}, 200),  # no Origin: not a browser
        ({"host": "[::1]:3000", "origin": "http://[::1]:3000", "content-type": "application/json"}, 200),
    ],
)
def test_a_session_is_minted_only_for_the_pages_own_loopback_origin(
    headers: dict[str, str], status: int
) -> None:
    answer = playground.serve("POST", "/playground/session", b'{"user_id": "alice"}', headers)

    assert answer is not None and answer[0] == status
    assert ("Set-Cookie" in answer[1]) is (status == 200)
