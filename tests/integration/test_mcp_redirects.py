"""A server Parley may reach that redirects to one it may not: the redirect is not followed there
(the connection is checked against the egress policy, whatever sent it), the run says the server
failed, and the address redirected to never sees a request (docs/tools.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from local.dynamodb import free_port
from tests.conftest import TokenFactory
from tests.doubles.mcp_servers import McpTestServer

pytestmark = pytest.mark.integration


class Redirecting:
    """Answers every request with a 307 to `target` (a redirect keeps the method and body)."""

    def __init__(self, target: str) -> None:
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _redirect(self) -> None:
                outer.requests += 1
                self.send_response(307)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_DELETE = _redirect  # noqa: N815  (http.server names them so)

            def log_message(self, *_: object) -> None:
                return

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hidden() -> Iterator[McpTestServer]:
    """A server on an address Parley must not reach (loopback, not named in MCP_ALLOW_HOSTS)."""
    server = McpTestServer().start()
    yield server
    server.stop()


@pytest.fixture
def redirecting(hidden: McpTestServer) -> Iterator[Redirecting]:
    server = Redirecting(hidden.url)
    yield server
    server.stop()


def test_a_redirect_to_an_address_parley_may_not_reach_is_not_followed(
    api: httpx.Client,
    auth: TokenFactory,
    hidden: McpTestServer,
    redirecting: Redirecting,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MCP_ALLOW_HOSTS", f"127.0.0.1:{redirecting.port}")  # the redirecting one only
    tool = {
        "type": "mcp",
        "server_label": "moved",
        "server_url": f"http://127.0.0.1:{redirecting.port}/mcp",
        "require_approval": "never",
    }

    answered = api.post(
        "/v1/chat/completions",
        json={
            "model": "parley-offline",
            "messages": [{"role": "user", "content": "Order Y1?"}],
            "tools": [tool],
        },
        headers=auth("alice", brands=["acme"]),
    )

    assert answered.status_code == 200, answered.text
    [run] = answered.json()["choices"][0]["message"]["tool_runs"]
    assert (run["server_label"], run["name"]) == ("moved", "tools/list") and run["error"]
    assert redirecting.requests >= 1  # asked, and redirected
    assert hidden.seen == []  # never reached
