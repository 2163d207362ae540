"""HTTP for calls made on a user's behalf: every connection opened to an address the egress
policy checked just then, for the host asked (parley.egress). Imported only when such a call is
made: the HTTP client costs a cold start nothing otherwise."""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore2
import httpx2

from parley.egress import EgressPolicy


class _GuardedBackend(httpcore2.AnyIOBackend):
    """Opens each connection to an address the policy checked, just now, for the host asked."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        addresses = await self.policy.addresses(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore2.ConnectError as error:
                failure = error
        raise failure or httpcore2.ConnectError(f"no address for {host}")


class GuardedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's transport with every connection made through the policy (redirects are the
    client's: an MCP client follows one only within the server's origin)."""

    def __init__(self, policy: EgressPolicy) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(), network_backend=_GuardedBackend(policy)
        )
