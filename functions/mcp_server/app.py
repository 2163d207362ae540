"""POST /mcp: Parley as an MCP server, Streamable HTTP answered as JSON and stateless, with the
tools search_documents and ask_assistant on the caller's token (docs/mcp.md)."""

import json

from aws_lambda_powertools.event_handler import Response, content_types

from parley.edge.http import create_app, http_handler, principal
from parley.logic.mcp_server import Services, answer
from parley.models.api.mcp import JsonRpcResponse
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.post(
    "/mcp",
    responses={
        200: {
            "description": "The JSON-RPC response: the method's result, or its error.",
            "content": {"application/json": {"model": JsonRpcResponse}},
        },
        202: {"description": "A notification, accepted: no body."},
    },
)
def rpc() -> Response[str]:
    services = Services(
        retrieve=wiring.retriever,
        catalog=wiring.catalog,
        generator=wiring.generator,
        config=wiring.settings,
        sealer=wiring.sealer,
        connections=wiring.connections,
    )
    reply = answer(principal(app), app.current_event.json_body, services)
    if reply is None:  # a notification: accepted, nothing to answer
        return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body="")
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=json.dumps(reply))


lambda_handler = http_handler(app, wiring)
