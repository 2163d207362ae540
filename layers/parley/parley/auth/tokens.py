"""JWT verification: HS256 with a shared secret (local development) or RS256/ES256 with keys
from a JWKS URL (Cognito or any OIDC issuer). `alg: none` and every other algorithm are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from http.cookies import CookieError, SimpleCookie
from typing import Any

import jwt

from parley.auth.jwks import JwksCache, UnknownKey
from parley.auth.principal import Principal
from parley.config import Settings
from parley.errors import TokenExpired, Unauthorized

_ASYMMETRIC = ("RS256", "ES256")


def token_from_request(
    headers: dict[str, str] | None, multi_value_headers: dict[str, list[str]] | None = None
) -> str:
    """The token from `Authorization: Bearer`, the `x-api-key` header (where Anthropic's SDKs put
    their key: API Gateway reads its own API keys from this authorizer, not from that header) or
    the `session` cookie; when several are sent they must be the same token. Ambiguous
    credentials (two Authorization headers, two `session` cookies) are refused rather than
    resolved by picking one."""
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    repeated = {name.lower(): values for name, values in (multi_value_headers or {}).items()}
    if len(repeated.get("authorization") or []) > 1:
        raise Unauthorized("The request carries more than one Authorization header.")
    bearer = None
    if authorization := lowered.get("authorization"):
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
        bearer = value.strip()
    if len(repeated.get("x-api-key") or []) > 1:
        raise Unauthorized("The request carries more than one x-api-key header.")
    api_key = (lowered.get("x-api-key") or "").strip() or None
    if bearer and api_key and bearer != api_key:
        raise Unauthorized("The Authorization and x-api-key headers carry different tokens.")
    bearer = bearer or api_key
    cookie_headers = repeated.get("cookie") or ([lowered["cookie"]] if lowered.get("cookie") else [])
    cookie = _session_cookie(cookie_headers)
    if bearer and cookie and bearer != cookie:
        raise Unauthorized("The Authorization header and the session cookie carry different tokens.")
    token = bearer or cookie
    if not token:
        raise Unauthorized(
            "No token: send 'Authorization: Bearer <token>', 'x-api-key: <token>' or a 'session' cookie."
        )
    return token


def _session_cookie(cookie_headers: list[str]) -> str | None:
    """The one `session` cookie of the request; more than one is a 401."""
    sessions = []
    for header in cookie_headers:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            raise Unauthorized("The Cookie header could not be parsed.") from None
        # SimpleCookie keeps the last of repeated names: count them in the raw header instead.
        names = [part.split("=", 1)[0].strip() for part in header.split(";")]
        if names.count("session") > 1:
            raise Unauthorized("The request carries more than one 'session' cookie.")
        if (morsel := jar.get("session")) is not None:
            sessions.append(morsel.value)
    if len(sessions) > 1:
        raise Unauthorized("The request carries more than one 'session' cookie.")
    return sessions[0] if sessions and sessions[0] else None


class TokenVerifier:
    """Verifies the tokens of one container; its JWKS keys are kept for the container's life."""

    def __init__(self, settings: Settings, jwks: JwksCache | None = None) -> None:
        self.settings = settings
        self.jwks = jwks or (
            JwksCache(
                settings.jwt_jwks_url,
                lifespan=settings.jwt_jwks_lifespan_seconds,
                cooldown=settings.jwt_jwks_refetch_cooldown_seconds,
            )
            if settings.jwt_jwks_url
            else None
        )

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            key = self._key_for(header, algorithm)
            access_token = self._is_access_token(token)
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[str(algorithm)],
                audience=None if access_token else self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={
                    "require": ["exp", "iss", "sub"] if access_token else ["exp", "iss", "aud", "sub"],
                    "verify_aud": not access_token,
                },
            )
        except jwt.ExpiredSignatureError as error:
            expired = _expiry(token)
            raise TokenExpired(
                f"The token expired{f' at {expired}' if expired else ''}: get a new one "
                "(make token prints one, with when it expires)."
            ) from error
        except (UnknownKey, jwt.PyJWTError) as error:
            raise Unauthorized(f"Invalid token: {error}.") from error
        if access_token:
            self._check_access_token(claims)
        return _principal(claims, self.settings.jwt_scope_prefix)

    def _key_for(self, header: dict[str, Any], algorithm: Any) -> Any:
        if algorithm == "HS256" and self.settings.jwt_hs256_secret:
            return self.settings.jwt_hs256_secret
        if algorithm in _ASYMMETRIC and self.jwks is not None:
            return self.jwks.key_for(header.get("kid"))  # JwksUnavailable: the authorizer fails, a 500
        raise jwt.InvalidAlgorithmError(f"algorithm {algorithm!r} is not accepted")

    def _is_access_token(self, token: str) -> bool:
        """A Cognito access token: no `aud`, a `client_id` instead; accepted only when app
        client ids are configured."""
        if not self.settings.cognito_client_ids:
            return False
        unverified = jwt.decode(token, options={"verify_signature": False})
        return "aud" not in unverified and unverified.get("token_use") == "access"

    def _check_access_token(self, claims: dict[str, Any]) -> None:
        if claims.get("client_id") not in self.settings.cognito_client_ids:
            raise Unauthorized("Invalid token: its client_id is not one of this API's app clients.")


BRAND_GROUP = "brand:"  # a Cognito group `brand:<id>` grants that brand


def _principal(claims: dict[str, Any], scope_prefix: str = "") -> Principal:
    """The caller: `sub`, `scope`, and `brands`, a claim of its own or, in a Cognito token that has
    none (Cognito adds no custom claim without a trigger), the user's groups named `brand:<id>`."""
    sub, scope = claims.get("sub"), claims.get("scope", "")
    brands = claims["brands"] if "brands" in claims else _group_brands(claims.get("cognito:groups"))
    if not isinstance(sub, str) or not sub:
        raise Unauthorized("Invalid token: 'sub' must be a non-empty string.")
    if not isinstance(brands, list) or not all(isinstance(b, str) and b for b in brands):
        raise Unauthorized("Invalid token: 'brands' must be a list of brand ids.")
    if not isinstance(scope, str):
        raise Unauthorized("Invalid token: 'scope' must be a space-separated string.")
    # Cognito names custom scopes `<resource server>/<scope>`: the prefix is the resource server's.
    scopes = [s.removeprefix(scope_prefix) if scope_prefix else s for s in scope.split()]
    return Principal(user_id=sub, brands=frozenset(brands), scopes=frozenset(scopes))


def _group_brands(groups: Any) -> list[str]:
    if groups is None:
        return []
    if not isinstance(groups, list):
        raise Unauthorized("Invalid token: 'cognito:groups' must be a list of group names.")
    return [g.removeprefix(BRAND_GROUP) for g in groups if isinstance(g, str) and g.startswith(BRAND_GROUP)]


def _expiry(token: str) -> str | None:
    """When the (signature-checked) token expired, in UTC."""
    try:
        exp: Any = jwt.decode(token, options={"verify_signature": False}).get("exp")
        return datetime.fromtimestamp(int(exp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (jwt.PyJWTError, TypeError, ValueError, OverflowError):
        return None
