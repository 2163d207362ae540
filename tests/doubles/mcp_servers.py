"""Real MCP servers for the tests and `make bench`: the SDK's `MCPServer` over Streamable HTTP,
under uvicorn on 127.0.0.1, each in a thread of its own. Each records the Authorization header
of every request it gets, and may require one token (a 401 otherwise), so tests can see which
credentials reached which server."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp, Receive, Scope, Send

from local.dynamodb import free_port

ORDER_LINE = "Order {order_id}: shipped on 3 May, arriving 6 May."
FOUND_LINE = "Found order A17 for a question of {size} characters."


class _Gate:
    """Records each request's Authorization header; with a required token, refuses the rest."""

    def __init__(self, app: ASGIApp, seen: list[str | None], required: str | None) -> None:
        self.app, self.seen, self.required = app, seen, required

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            authorization = headers.get("authorization")
            self.seen.append(authorization)
            if self.required is not None and authorization != f"Bearer {self.required}":
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"text/plain")],
                    }
                )
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await self.app(scope, receive, send)


class McpTestServer:
    """An MCP server with an orders tool, a search, a slow one, a failing one and one that answers 5 MB."""

    def __init__(
        self, *, stateless: bool = True, required_token: str | None = None, slow_seconds: float = 5
    ) -> None:
        self.seen: list[str | None] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        server = MCPServer("orders")

        @server.tool()
        def lookup_order(order_id: str) -> str:
            """Look up an order by its id: where it is and when it arrives."""
            self.calls.append(("lookup_order", {"order_id": order_id}))
            return ORDER_LINE.format(order_id=order_id)

        @server.tool()
        def find_orders(query: str) -> str:
            """Find the orders a question is about (the test providers ask with a `query`)."""
            self.calls.append(("find_orders", {"query": query}))
            return FOUND_LINE.format(size=len(query))

        @server.tool()
        def slow_lookup(order_id: str) -> str:
            """Look up an order slowly."""
            self.calls.append(("slow_lookup", {"order_id": order_id}))
            time.sleep(slow_seconds)
            return ORDER_LINE.format(order_id=order_id)

        @server.tool()
        def broken_lookup(order_id: str) -> str:
            """Look up an order in a database that is down."""
            self.calls.append(("broken_lookup", {"order_id": order_id}))
            raise RuntimeError("the order database is down")

        @server.tool()
        def huge_report(order_id: str) -> str:
            """The full report of an order."""
            self.calls.append(("huge_report", {"order_id": order_id}))
            return "report line\n" * 420_000  # about 5 MB

        app = server.streamable_http_app(stateless_http=stateless)
        self.port = free_port()
        config = uvicorn.Config(
            _Gate(app, self.seen, required_token),
            host="127.0.0.1",
            port=self.port,
            log_level="error",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> McpTestServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the MCP test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
