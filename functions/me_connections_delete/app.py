"""DELETE /v1/me/connections/{server_label}: forget the caller's own credentials for a server."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.http import LabelPath, create_app, http_handler, principal
from parley.logic.connections import delete_connection
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.delete("/v1/me/connections/<server_label>", status_code=204)
def delete(
    server_label: LabelPath, brand_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None
) -> Response[None]:
    delete_connection(principal(app), server_label, brand_id, store=wiring.connections)
    return Response(status_code=204)


lambda_handler = http_handler(app, wiring)
