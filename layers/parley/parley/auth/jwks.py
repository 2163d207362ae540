"""The issuer's signing keys (a JWKS URL), cached per warm authorizer with an expiry.

Keys are fetched once and kept for `lifespan` seconds, so a key the issuer revokes stops being
accepted within that time. A token naming an unknown `kid` (the issuer rotated its keys) makes
one re-fetch, at most once per `cooldown` seconds, so tokens with made-up kids cannot turn every
request into a fetch. A JWKS that cannot be fetched within `timeout` raises `JwksUnavailable`:
the authorizer fails (a gateway 500), it does not refuse the caller nor hang.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import jwt


class JwksUnavailable(Exception):
    """The issuer's keys could not be fetched."""


class UnknownKey(Exception):
    """The token names a key the issuer does not publish."""


def _fetch_over_http(url: str, timeout: float) -> dict[str, Any]:
    if not url.startswith(("https://", "http://")):
        raise JwksUnavailable(f"unsupported JWKS URL scheme: {url.split(':', 1)[0]}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            document: dict[str, Any] = json.loads(response.read(1_000_000))
            return document
    except (OSError, ValueError) as error:
        raise JwksUnavailable(f"the JWKS could not be fetched: {error}") from error


class JwksCache:
    def __init__(
        self,
        url: str,
        *,
        lifespan: float = 600,
        cooldown: float = 30,
        timeout: float = 3,
        fetch: Callable[[str, float], dict[str, Any]] = _fetch_over_http,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url, self.lifespan, self.cooldown, self.timeout = url, lifespan, cooldown, timeout
        self._fetch, self._clock = fetch, clock
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key_for(self, kid: str | None) -> Any:
        """The public key the token's `kid` names."""
        with self._lock:
            if self._fetched_at is None or self._clock() - self._fetched_at >= self.lifespan:
                self._refresh()
            elif kid not in self._keys and self._clock() - self._fetched_at >= self.cooldown:
                self._refresh()  # the issuer may have rotated its keys since the last fetch
            if kid not in self._keys:
                raise UnknownKey(f"no signing key with kid {kid!r}")
            return self._keys[kid]

    def _refresh(self) -> None:
        self.fetches += 1
        document = self._fetch(self.url, self.timeout)
        keys: dict[str, Any] = {}
        for entry in document.get("keys") or []:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or "kid" not in entry:
                continue
            try:
                keys[str(entry["kid"])] = jwt.PyJWK(entry).key
            except jwt.PyJWTError:
                continue  # a key type this verifier does not use
        self._keys, self._fetched_at = keys, self._clock()
