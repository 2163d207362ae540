"""Authentication and scopes through the gateway: every refusal is API Gateway's 401/403 with the
`{error, message}` body, and nothing is written."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from local.settings import LOCAL_AUDIENCE, LOCAL_ISSUER
from local.token import mint
from tests.conftest import TokenFactory

pytestmark = pytest.mark.integration


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": "alice",
        "scope": "conversations:read",
        "iat": now,
        "exp": now + 600,
        **overrides,
    }


def b64url(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


BAD_TOKENS = {
    "alg none": jwt.encode(claims(), None, algorithm="none"),
    "wrong signature": mint("alice", secret="a-different-secret-of-32-bytes-at-least"),
    "expired": mint("alice", ttl=-120),
    "wrong issuer": mint("alice", iss="https://elsewhere.example"),
    "wrong audience": mint("alice", aud="another-api"),
    "truncated": mint("alice")[:-12],
    "not a JWT": "hello",
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_a_bad_token_is_a_401_with_the_error_body(api: httpx.Client, case: str) -> None:
    response = api.get("/v1/conversations", headers=bearer(BAD_TOKENS[case]))

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_an_expired_token_is_a_401_that_says_expired_and_when(api: httpx.Client) -> None:
    response = api.get("/v1/conversations", headers=bearer(mint("alice", ttl=-120)))
    forged = api.get(
        "/v1/conversations",
        headers=bearer(mint("alice", ttl=-120, secret="a-different-secret-of-32-bytes-at-least")),
    )

    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized"
    assert "expired at 20" in response.json()["message"] and "make token" in response.json()["message"]
    assert forged.status_code == 401 and "expired" not in forged.json()["message"]  # its signature is wrong


def test_no_token_is_a_401(api: httpx.Client) -> None:
    response = api.post("/v1/conversations", json={})

    assert response.status_code == 401
    assert set(response.json()) == {"error", "message"}


def test_a_refused_write_stores_nothing(api: httpx.Client, auth: TokenFactory) -> None:
    before = api.get("/v1/conversations", headers=auth("alice")).json()["conversations"]

    refused = api.post("/v1/conversations", json={"title": "x"}, headers=bearer(BAD_TOKENS["expired"]))

    assert refused.status_code == 401
    assert api.get("/v1/conversations", headers=auth("alice")).json()["conversations"] == before


def test_the_session_cookie_authenticates(api: httpx.Client) -> None:
    response = api.get("/v1/conversations", headers={"Cookie": f"session={mint('alice')}"})

    assert response.status_code == 200


def test_a_cookie_and_a_header_that_disagree_are_a_401(api: httpx.Client) -> None:
    headers = {**bearer(mint("alice")), "Cookie": f"session={mint('mallory')}"}

    response = api.get("/v1/conversations", headers=headers)

    assert response.status_code == 401


def test_a_token_without_the_routes_scope_is_a_403(api: httpx.Client, auth: TokenFactory) -> None:
    reader = auth("alice", scopes=["conversations:read"])

    response = api.post("/v1/conversations", json={}, headers=reader)

    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert "conversations:write" in response.json()["message"]


def test_chat_completion_needs_ai_chat_but_append_does_not(api: httpx.Client, auth: TokenFactory) -> None:
    writer = auth("alice", scopes=["conversations:read", "conversations:write"])
    conversation = api.post("/v1/conversations", json={}, headers=writer).json()["conversation"]
    url = f"/v1/conversations/{conversation['id']}/messages"

    appended = api.post(url, json={"role": "user", "content": "hi"}, headers=writer)
    generated = api.post(
        url, json={"role": "user", "content": "hi", "mode": "chat-completion"}, headers=writer
    )

    assert appended.status_code == 200
    assert generated.status_code == 403 and generated.json()["error"] == "insufficient_scope"
    assert api.get(url, headers=writer).json()["total"] == 1


class _JwksServer:
    """An identity provider's JWKS endpoint on a local port."""

    def __init__(self, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/.well-known/jwks.json"


@pytest.fixture
def identity_provider(api: httpx.Client) -> Iterator[tuple[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    server = _JwksServer(
        {
            "keys": [
                {
                    **RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True),
                    "kid": "rsa-1",
                    "alg": "RS256",
                    "use": "sig",
                },
                {
                    **ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True),
                    "kid": "ec-1",
                    "alg": "ES256",
                    "use": "sig",
                },
            ]
        }
    )
    os.environ["JWT_JWKS_URL"] = server.url
    yield rsa_key, ec_key
    os.environ.pop("JWT_JWKS_URL")
    server.httpd.shutdown()


def test_rs256_and_es256_tokens_from_the_jwks_are_accepted(
    api: httpx.Client, identity_provider: tuple[Any, Any]
) -> None:
    rsa_key, ec_key = identity_provider
    rs = jwt.encode(claims(sub="rsa-user"), rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})
    es = jwt.encode(claims(sub="ec-user"), ec_key, algorithm="ES256", headers={"kid": "ec-1"})

    assert api.get("/v1/conversations", headers=bearer(rs)).status_code == 200
    assert api.get("/v1/conversations", headers=bearer(es)).status_code == 200


def test_a_key_the_jwks_does_not_hold_is_a_401(api: httpx.Client, identity_provider: tuple[Any, Any]) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "rsa-1"})
    unknown_kid = jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "nobody"})

    assert api.get("/v1/conversations", headers=bearer(forged)).status_code == 401
    assert api.get("/v1/conversations", headers=bearer(unknown_kid)).status_code == 401


def test_hs256_keyed_with_the_public_key_is_a_401(
    api: httpx.Client, identity_provider: tuple[Any, Any]
) -> None:
    """Algorithm confusion: an HS256 token whose HMAC key is the issuer's public RSA key."""
    rsa_key, _ = identity_provider
    public_pem = rsa_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{b64url({'alg': 'HS256', 'typ': 'JWT', 'kid': 'rsa-1'})}.{b64url(claims())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"

    assert api.get("/v1/conversations", headers=bearer(forged)).status_code == 401


def test_a_caller_no_usage_plan_meters_is_refused_by_the_gateway(
    api: httpx.Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API requires an API key from the authorizer (usage plans); without one, API Gateway
    answers 403 before any function runs."""
    monkeypatch.setenv("USAGE_KEY_PREFIX", "")  # an authorizer that names no usage plan key
    try:
        refused = api.get("/v1/conversations", headers=auth("alice"))
    finally:
        monkeypatch.undo()

    assert refused.status_code == 403
    assert refused.json() == {"error": "forbidden", "message": "No usage plan covers this caller."}
    assert api.get("/v1/conversations", headers=auth("alice")).status_code == 200


@pytest.fixture
def silent_identity_provider(api: httpx.Client) -> Iterator[None]:
    """A JWKS URL whose server accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    os.environ["JWT_JWKS_URL"] = f"http://127.0.0.1:{listener.getsockname()[1]}/jwks.json"
    yield
    os.environ.pop("JWT_JWKS_URL")
    listener.close()


def test_an_unanswering_jwks_is_a_clean_gateway_error_not_a_hang(
    api: httpx.Client, silent_identity_provider: None
) -> None:
    signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), signer, algorithm="RS256", headers={"kid": "rsa-1"})

    response = api.get("/v1/conversations", headers=bearer(token))

    assert response.status_code == 500
    assert set(response.json()) == {"error", "message"}
