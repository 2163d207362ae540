"""Token verification as the authorizer does it: algorithms, claims, and where the token comes from."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from parley.auth.tokens import TokenVerifier, token_from_request
from parley.config import Settings
from parley.errors import Unauthorized

SECRET = "unit-test-secret-of-at-least-32-bytes!"
HS = Settings(jwt_hs256_secret=SECRET, jwt_issuer="https://issuer.example", jwt_audience="parley")


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": "https://issuer.example",
        "aud": "parley",
        "sub": "alice",
        "brands": ["acme"],
        "scope": "conversations:read ai:chat",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    return {**base, **overrides}


def test_a_valid_hs256_token_yields_its_principal() -> None:
    principal = TokenVerifier(HS).verify(jwt.encode(claims(), SECRET, algorithm="HS256"))

    assert principal.user_id == "alice"
    assert principal.brands == {"acme"}
    assert principal.scopes == {"conversations:read", "ai:chat"}


@pytest.mark.parametrize(
    ("groups", "brands"),
    [
        (["brand:acme", "brand:globex", "admins"], {"acme", "globex"}),
        (["admins"], set()),
        ([], set()),
    ],
)
def test_a_cognito_token_without_brands_gets_them_from_its_brand_groups(
    groups: list[str], brands: set[str]
) -> None:
    cognito = {k: v for k, v in claims().items() if k != "brands"} | {"cognito:groups": groups}

    principal = TokenVerifier(HS).verify(jwt.encode(cognito, SECRET, algorithm="HS256"))

    assert principal.brands == brands


def test_a_brands_claim_wins_over_groups() -> None:
    token = jwt.encode(claims(**{"cognito:groups": ["brand:globex"]}), SECRET, algorithm="HS256")

    assert TokenVerifier(HS).verify(token).brands == {"acme"}


@pytest.mark.parametrize(
    ("bad_claims", "reason"),
    [  # made when the test runs: a token made at collection may have expired by then
        (lambda: claims(exp=int(time.time()) - 120), "expired"),
        (lambda: claims(nbf=int(time.time()) + 600), "not yet valid"),
        (lambda: claims(iss="https://evil.example"), "issuer"),
        (lambda: claims(aud="someone-else"), "audience"),
        (lambda: {k: v for k, v in claims().items() if k != "exp"}, "exp"),
        (lambda: claims(sub=""), "sub"),
        (lambda: claims(brands="acme"), "brands"),
        (
            lambda: {k: v for k, v in claims().items() if k != "brands"} | {"cognito:groups": "brand:acme"},
            "groups",
        ),
    ],
    ids=["expired", "not_yet_valid", "issuer", "audience", "no_exp", "sub", "brands", "groups"],
)
def test_tokens_with_bad_claims_are_refused(bad_claims: Callable[[], dict[str, Any]], reason: str) -> None:
    token = jwt.encode(bad_claims(), SECRET, algorithm="HS256")

    with pytest.raises(Unauthorized) as refusal:
        TokenVerifier(HS).verify(token)

    assert reason in refusal.value.message.lower()


def test_a_token_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(Unauthorized, match="Signature"):
        TokenVerifier(HS).verify(
            jwt.encode(claims(), "another-secret-also-32-bytes-long!!", algorithm="HS256")
        )


def test_alg_none_is_refused() -> None:
    unsigned = jwt.encode(claims(), key=None, algorithm="none")

    with pytest.raises(Unauthorized, match="not accepted"):
        TokenVerifier(HS).verify(unsigned)


def test_hs256_is_refused_when_no_secret_is_configured() -> None:
    production = Settings(
        jwt_issuer="https://issuer.example", jwt_audience="parley", jwt_jwks_url="file:///nonexistent"
    )

    with pytest.raises(Unauthorized, match="not accepted"):
        TokenVerifier(production).verify(jwt.encode(claims(), SECRET, algorithm="HS256"))


def test_a_truncated_token_is_refused() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")

    with pytest.raises(Unauthorized):
        TokenVerifier(HS).verify(token[:-10])


def test_the_token_comes_from_the_bearer_header_or_the_session_cookie() -> None:
    assert token_from_request({"Authorization": "Bearer abc"}) == "abc"
    assert token_from_request({"authorization": "bearer abc"}) == "abc"
    assert token_from_request({"Cookie": "theme=dark; session=xyz"}) == "xyz"
    assert token_from_request({"Authorization": "Bearer same", "Cookie": "session=same"}) == "same"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"Cookie": "theme=dark"},
        {"Authorization": "Bearer one", "Cookie": "session=two"},
    ],
)
def test_requests_without_exactly_one_token_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(Unauthorized):
        token_from_request(headers)


def test_make_token_prints_the_token_alone_and_says_when_it_expires() -> None:
    import subprocess
    import sys

    from local.template import ROOT

    ran = subprocess.run(
        [sys.executable, "-m", "local.token", "--sub", "alice", "--brands", "acme", "--ttl", "90"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert len(ran.stdout.strip().split(".")) == 3 and "\n" not in ran.stdout.strip()  # TOKEN=$(...)
    assert "expires" in ran.stderr and "in 90 s" in ran.stderr
