"""JWT verification: HS256 with a shared secret (local development) or RS256/ES256 with keys
from a JWKS URL (Cognito or any OIDC issuer). `alg: none` and every other algorithm are refused."""

from __future__ import annotations

import functools
from http.cookies import CookieError, SimpleCookie
from typing import Any

import jwt

from parley.auth.principal import Principal
from parley.config import Settings
from parley.errors import Unauthorized

_ASYMMETRIC = ("RS256", "ES256")
_JWKS_LIFESPAN_SECONDS = 3600


@functools.cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    """Cached per warm authorizer: keys are fetched once and re-fetched on an unknown `kid`."""
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=_JWKS_LIFESPAN_SECONDS, timeout=3)


def token_from_request(headers: dict[str, str]) -> str:
    """The token from `Authorization: Bearer` or the `session` cookie; when both are sent they
    must be the same token."""
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    bearer = None
    if authorization := lowered.get("authorization"):
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
        bearer = value.strip()
    cookie = _session_cookie(lowered.get("cookie"))
    if bearer and cookie and bearer != cookie:
        raise Unauthorized("The Authorization header and the session cookie carry different tokens.")
    token = bearer or cookie
    if not token:
        raise Unauthorized("No token: send 'Authorization: Bearer <token>' or a 'session' cookie.")
    return token


def _session_cookie(header: str | None) -> str | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        raise Unauthorized("The Cookie header could not be parsed.") from None
    morsel = jar.get("session")
    return morsel.value if morsel and morsel.value else None


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def verify(self, token: str) -> Principal:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            claims = jwt.decode(
                token,
                key=self._key_for(token, algorithm),
                algorithms=[str(algorithm)],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWKClientConnectionError:
            raise  # the issuer's keys cannot be fetched: the authorizer fails (5xx), it does not refuse
        except jwt.PyJWTError as error:
            raise Unauthorized(f"Invalid token: {error}.") from error
        return _principal(claims)

    def _key_for(self, token: str, algorithm: Any) -> Any:
        if algorithm == "HS256" and self.settings.jwt_hs256_secret:
            return self.settings.jwt_hs256_secret
        if algorithm in _ASYMMETRIC and self.settings.jwt_jwks_url:
            return _jwks_client(self.settings.jwt_jwks_url).get_signing_key_from_jwt(token).key
        raise jwt.InvalidAlgorithmError(f"algorithm {algorithm!r} is not accepted")


def _principal(claims: dict[str, Any]) -> Principal:
    sub, brands, scope = claims.get("sub"), claims.get("brands", []), claims.get("scope", "")
    if not isinstance(sub, str) or not sub:
        raise Unauthorized("Invalid token: 'sub' must be a non-empty string.")
    if not isinstance(brands, list) or not all(isinstance(b, str) and b for b in brands):
        raise Unauthorized("Invalid token: 'brands' must be a list of brand ids.")
    if not isinstance(scope, str):
        raise Unauthorized("Invalid token: 'scope' must be a space-separated string.")
    return Principal(user_id=sub, brands=frozenset(brands), scopes=frozenset(scope.split()))
