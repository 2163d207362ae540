"""PUT /v1/me/connections/{server_label}: the caller's own credentials for an assistant's MCP
server that takes each user's (`"credentials": "per_user"`), sealed; shown back as "set"."""

from parley.edge.http import LabelPath, create_app, http_handler, principal
from parley.logic.connections import put_connection
from parley.models.api.connections import ConnectionEnvelope, ConnectionIn
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.put("/v1/me/connections/<server_label>")
def put(server_label: LabelPath, request: ConnectionIn) -> ConnectionEnvelope:
    connection = put_connection(
        principal(app), server_label, request, store=wiring.connections, sealer=wiring.sealer
    )
    return ConnectionEnvelope(connection=connection)


lambda_handler = http_handler(app, wiring)
