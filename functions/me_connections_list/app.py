"""GET /v1/me/connections: the caller's connections in a brand (labels and when set, no secrets)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.http import create_app, http_handler, principal
from parley.logic.connections import list_connections
from parley.models.api.connections import ConnectionList
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.get("/v1/me/connections")
def list_(brand_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None) -> ConnectionList:
    return ConnectionList(connections=list_connections(principal(app), brand_id, store=wiring.connections))


lambda_handler = http_handler(app, wiring)
