"""MCP approvals on the Responses API, with the OpenAI SDK against a real MCP server: a response
that stops with an `mcp_approval_request` item and calls nothing, then a response continuing it
with an `mcp_approval_response` item that runs the approved call (an `mcp_call` item) and answers
with its result, or hears that the user refused; an answer that fits no request is a 400."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.conftest import TokenFactory
from tests.doubles.mcp_servers import ORDER_LINE, McpTestServer
from tests.integration.test_mcp_approval import (  # the same MCP server and its fixtures
    orders,
    orders_server,  # noqa: F401
    server,  # noqa: F401
)

pytestmark = pytest.mark.integration


@pytest.fixture
def mcp(request: pytest.FixtureRequest) -> McpTestServer:
    """The orders server of the conversation approval tests, allowed and with no calls yet."""
    found: McpTestServer = request.getfixturevalue("server")
    return found


@pytest.fixture
def client(api: httpx.Client, auth: TokenFactory) -> openai.OpenAI:
    token = auth("alice", brands=["acme"])["Authorization"].removeprefix("Bearer ")
    return openai.OpenAI(base_url=f"{str(api.base_url).rstrip('/')}/v1", api_key=token, max_retries=0)


def asked(client: openai.OpenAI, mcp: McpTestServer) -> tuple[str, Any]:
    first = client.responses.create(model="parley-offline", input="Look up order K11", tools=[orders(mcp)])
    [request] = [item for item in first.output if item.type == "mcp_approval_request"]
    assert (request.server_label, request.name) == ("orders", "lookup_order")
    assert mcp.calls == []  # nothing runs before the user says so
    return first.id, request


def test_an_approved_call_runs_and_the_next_response_reads_its_result(
    client: openai.OpenAI, mcp: McpTestServer
) -> None:
    first_id, request = asked(client, mcp)

    approved = client.responses.create(
        model="parley-offline",
        previous_response_id=first_id,
        tools=[orders(mcp)],
        input=[{"type": "mcp_approval_response", "approval_request_id": request.id, "approve": True}],
    )

    [(tool, arguments)] = mcp.calls
    output = ORDER_LINE.format(order_id=arguments["order_id"])
    [call] = [item for item in approved.output if item.type == "mcp_call"]
    assert (call.name, call.output, call.error) == (tool, output, None)
    assert output in approved.output_text  # the model read the approved call's result
    listed = client.responses.input_items.list(approved.id).data
    assert [item.type for item in listed] == ["mcp_approval_response"]
    later = client.responses.create(
        model="parley-offline", previous_response_id=approved.id, input="And K12?"
    )
    assert later.output_text and len(mcp.calls) == 1  # the replayed round is whole


def test_a_denied_call_is_never_made_and_the_model_hears_why(
    client: openai.OpenAI, mcp: McpTestServer
) -> None:
    first_id, request = asked(client, mcp)

    denied = client.responses.create(
        model="parley-offline",
        previous_response_id=first_id,
        input=[
            {
                "type": "mcp_approval_response",
                "approval_request_id": request.id,
                "approve": False,
                "reason": "not now",
            }
        ],
    )

    assert mcp.calls == []
    assert "denied this call (not now)" in denied.output_text
    [call] = [item for item in denied.output if item.type == "mcp_call"]
    assert "denied" in (call.error or "")


def test_an_approval_that_answers_nothing_is_a_400_that_runs_nothing(
    client: openai.OpenAI, mcp: McpTestServer
) -> None:
    first_id, request = asked(client, mcp)
    plain = client.responses.create(model="parley-offline", input="Hello")

    with pytest.raises(openai.BadRequestError) as unknown:
        client.responses.create(
            model="parley-offline",
            previous_response_id=plain.id,
            input=[{"type": "mcp_approval_response", "approval_request_id": request.id, "approve": True}],
        )
    assert unknown.value.code == "unknown_approval_request"
    with pytest.raises(openai.BadRequestError) as missing:  # approved, but its mcp not named again
        client.responses.create(
            model="parley-offline",
            previous_response_id=first_id,
            input=[{"type": "mcp_approval_response", "approval_request_id": request.id, "approve": True}],
        )
    assert missing.value.code == "approval_server_missing"
    assert mcp.calls == []
