"""The authorizer's JWKS cache: keys expire after their lifespan (revocation takes effect), an
unknown kid re-fetches at most once per cooldown (rotation works, made-up kids cost nothing),
and an unreachable JWKS fails fast instead of hanging."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from parley.auth.jwks import JwksCache, JwksUnavailable, UnknownKey
from parley.auth.tokens import TokenVerifier
from parley.config import Settings
from parley.errors import Unauthorized

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"


class Issuer:
    """An identity provider's published keys, changeable as rotation and revocation change them."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetches = 0
        self.reachable = True

    def add_key(self, kid: str) -> Any:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.keys[kid] = private
        return private

    def jwks(self, url: str, timeout: float) -> dict[str, Any]:
        self.fetches += 1
        if not self.reachable:
            raise JwksUnavailable("connection refused")
        published = []
        for kid, private in self.keys.items():
            entry = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
            published.append({**entry, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": published}

    def token(self, kid: str, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "sub": "alice", "exp": now + 600, "iat": now, **claims}
        return jwt.encode(payload, self.keys[kid], algorithm="RS256", headers={"kid": kid})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer() -> Issuer:
    issuer = Issuer()
    issuer.add_key("k1")
    return issuer


def cache(issuer: Issuer, clock: Clock) -> JwksCache:
    return JwksCache("https://issuer/jwks", lifespan=600, cooldown=30, fetch=issuer.jwks, clock=clock)


def test_keys_are_fetched_once_while_fresh(issuer: Issuer) -> None:
    keys = cache(issuer, Clock())

    for _ in range(5):
        keys.key_for("k1")

    assert issuer.fetches == 1


def test_a_revoked_key_stops_working_after_the_lifespan(issuer: Issuer) -> None:
    clock = Clock()
    keys = cache(issuer, clock)
    keys.key_for("k1")
    issuer.keys.clear()
    issuer.add_key("k2")

    clock.now += 599
    keys.key_for("k1")  # still trusted inside the lifespan
    clock.now += 2

    with pytest.raises(UnknownKey):
        keys.key_for("k1")
    assert issuer.fetches == 2


def test_a_rotated_key_is_found_by_one_refetch_and_made_up_kids_wait_for_the_cooldown(issuer: Issuer) -> None:
    clock = Clock()
    keys = cache(issuer, clock)
    keys.key_for("k1")
    clock.now += 31
    issuer.add_key("k2")

    keys.key_for("k2")
    assert issuer.fetches == 2

    for kid in ("made-up-1", "made-up-2", "made-up-3"):
        with pytest.raises(UnknownKey):
            keys.key_for(kid)
    assert issuer.fetches == 2  # within the cooldown: no fetch per bogus kid

    clock.now += 31
    with pytest.raises(UnknownKey):
        keys.key_for("made-up-4")
    assert issuer.fetches == 3


def test_an_unreachable_jwks_raises_at_once(issuer: Issuer) -> None:
    issuer.reachable = False

    with pytest.raises(JwksUnavailable):
        cache(issuer, Clock()).key_for("k1")


def verifier(issuer: Issuer, **settings: Any) -> TokenVerifier:
    url = "https://issuer/.well-known/jwks.json"
    return TokenVerifier(
        Settings(jwt_issuer=ISSUER, jwt_audience="parley-web", jwt_jwks_url=url, **settings),
        JwksCache(url, fetch=issuer.jwks),
    )


def access_token(issuer: Issuer, **overrides: Any) -> str:
    claims = {
        "token_use": "access",
        "client_id": "app-client-1",
        "scope": "parley/ai:chat parley/conversations:read",
        "brands": ["acme"],
        **overrides,
    }
    return issuer.token("k1", **claims)


def test_a_cognito_access_token_is_accepted_for_a_configured_app_client(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    verify = verifier(issuer, jwt_cognito_client_ids="app-client-1", jwt_scope_prefix="parley/")

    principal = verify.verify(access_token(issuer))

    assert principal.user_id == "alice" and principal.brands == {"acme"}
    assert principal.scopes == {"ai:chat", "conversations:read"}


@pytest.mark.parametrize(
    ("configured", "claims", "reason"),
    [
        ("", {}, "aud"),  # access tokens not enabled: it has no audience
        ("app-client-1", {"client_id": "another-app"}, "client_id"),
        ("app-client-1", {"token_use": "id"}, "aud"),  # an id token must carry its audience
    ],
)
def test_other_access_tokens_are_refused(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch, configured: str, claims: dict[str, Any], reason: str
) -> None:
    verify = verifier(issuer, jwt_cognito_client_ids=configured)

    with pytest.raises(Unauthorized, match=reason):
        verify.verify(access_token(issuer, **claims))
