"""DELETE /v1/responses/{response_id}: a stored response's record (its conversation stays)."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.responses import delete_response
from parley.models.api.responses import DeletedResponse
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="openai")


@app.delete("/v1/responses/<response_id>")
def delete(response_id: str) -> DeletedResponse:
    return delete_response(principal(app), response_id, responses=wiring.responses)


lambda_handler = http_handler(app, wiring, style="openai")
