"""Parley as an MCP client: a server's tools listed and called over Streamable HTTP with the
official SDK, whichever revision the server speaks (the SDK probes for the stateless 2026-07-28
one and falls back to the 2025-11-25 handshake). Every connection goes through the egress
policy (parley.egress); a tool list is reused for a short while per server and credentials
(never across users), and a call's output is cut to the configured size."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from parley.egress import EgressPolicy, EgressRefused
from parley.models.api.tools import McpTool
from parley.models.tools import capped

if TYPE_CHECKING:  # the SDK is imported by the first call that needs it (half a second of cold start)
    from mcp import Client
    from mcp_types import CallToolResult

T = TypeVar("T")
logging.getLogger("httpx2").setLevel(
    logging.WARNING
)  # a line per request to a user's server: not ours to log


@dataclass(frozen=True)
class ServerTool:
    name: str
    description: str | None
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class CallOutcome:
    output: str | None
    error: str | None
    duration_ms: int


class ServerUnavailable(Exception):
    """The server could not be reached or refused: the message says why, and never carries the
    credentials."""


class McpClient:
    def __init__(
        self,
        policy: EgressPolicy,
        *,
        cache_seconds: float,
        max_output_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.cache_seconds = cache_seconds
        self.max_output_bytes = max_output_bytes
        self.clock = clock
        self._listed: dict[str, tuple[float, list[ServerTool]]] = {}

    def list_tools(self, server: McpTool, timeout: float) -> list[ServerTool]:
        """The server's tools (EgressRefused when it may not be called; ServerUnavailable when it
        cannot be listed)."""
        self.policy.check_url(server.server_url)
        key = _fingerprint(server)
        cached = self._listed.get(key)
        if cached is not None and self.clock() - cached[0] < self.cache_seconds:
            return cached[1]
        tools = _run(lambda: self._list(server, timeout))
        self._listed[key] = (self.clock(), tools)
        return tools

    def call(self, server: McpTool, name: str, arguments: Any, timeout: float) -> CallOutcome:
        """One call of the tool; a failure of any kind is an outcome with its error, never raised."""
        started = time.perf_counter()
        try:
            self.policy.check_url(server.server_url)
            if not isinstance(arguments, dict):
                raise ServerUnavailable("the model's arguments are not a JSON object")
            result = _run(lambda: self._call(server, name, arguments, timeout))
            text = _text_of(result)
            output, error = (None, capped(text, 2_000)) if result.is_error else (text, None)
        except (ServerUnavailable, EgressRefused) as failure:
            output, error = None, str(failure)
        if output is not None:
            output = capped(output, self.max_output_bytes)
        return CallOutcome(output, error, duration_ms=round((time.perf_counter() - started) * 1000))

    async def _list(self, server: McpTool, timeout: float) -> list[ServerTool]:
        async def listing(client: Client) -> list[ServerTool]:
            found: list[ServerTool] = []
            cursor: str | None = None
            while True:
                page = await client.list_tools(cursor=cursor)
                found += [ServerTool(t.name, t.description, dict(t.input_schema)) for t in page.tools]
                cursor = page.next_cursor
                if not cursor or len(found) > 1_000:
                    return found

        return await self._session(server, timeout, listing)

    async def _call(
        self, server: McpTool, name: str, arguments: dict[str, Any], timeout: float
    ) -> CallToolResult:
        async def calling(client: Client) -> CallToolResult:
            return await client.call_tool(name, arguments, read_timeout_seconds=timeout)

        return await self._session(server, timeout, calling)

    async def _session(self, server: McpTool, timeout: float, work: Callable[[Client], Awaitable[T]]) -> T:
        import httpx2
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared.exceptions import MCPError
        from mcp_types import Implementation

        from parley.remote_tools.transport import GuardedTransport

        headers = dict(server.headers or {})
        if server.authorization:
            headers["Authorization"] = f"Bearer {server.authorization}"
        try:
            with anyio.fail_after(timeout):
                async with httpx2.AsyncClient(
                    transport=GuardedTransport(self.policy), headers=headers, timeout=httpx2.Timeout(timeout)
                ) as http:
                    transport = streamable_http_client(server.server_url, http_client=http)
                    async with Client(
                        transport,
                        read_timeout_seconds=timeout,
                        client_info=Implementation(name="parley", version="1"),
                        cache=None,
                    ) as client:
                        return await work(client)
        except EgressRefused:
            raise
        except TimeoutError:
            raise ServerUnavailable(f"the server did not answer within {timeout:g} s") from None
        except MCPError as error:
            raise ServerUnavailable(
                f"the server answered with an error: {error.error.message[:500]}"
            ) from None
        except Exception as failure:  # an ExceptionGroup from the SDK's task group, an HTTP error
            cause = _first(failure)
            if isinstance(cause, EgressRefused):
                raise cause from None
            raise ServerUnavailable(_reason(cause)) from None


def _first(failure: BaseException) -> BaseException:
    """The first failure inside the SDK's exception groups."""
    while isinstance(failure, BaseExceptionGroup) and failure.exceptions:
        failure = failure.exceptions[0]
    return failure


def _reason(failure: BaseException) -> str:
    """What went wrong, in a sentence that names no credential."""
    import httpx2

    if isinstance(failure, httpx2.HTTPStatusError):
        return f"the server answered HTTP {failure.response.status_code}"
    if isinstance(failure, httpx2.ConnectError | OSError):
        return "the server could not be reached"
    if isinstance(failure, TimeoutError | httpx2.TimeoutException):
        return "the server did not answer in time"
    return f"the server's answer could not be used ({type(failure).__name__})"


def _text_of(result: CallToolResult) -> str:
    parts: list[str] = []
    for block in result.content:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)  # type: ignore[union-attr]
        else:
            parts.append(f"[{kind} content: {getattr(block, 'mime_type', None) or 'not shown'}]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts)


def _fingerprint(server: McpTool) -> str:
    """The cache key of a server's tool list: its URL and credentials, hashed (never kept as they are)."""
    material = json.dumps(
        [server.server_url, sorted((server.headers or {}).items()), server.authorization or ""]
    )
    return hashlib.sha256(material.encode()).hexdigest()


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Async work from Parley's synchronous handlers (in a thread of its own when this one already
    runs an event loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return anyio.run(work)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, work).result()
