"""GET /v1/responses/{response_id}: one of the caller's stored responses (OpenAI's shape)."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.responses import get_response
from parley.models.api.responses import Response
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="openai")


@app.get("/v1/responses/<response_id>")
def read(response_id: str) -> Response:
    return get_response(principal(app), response_id, responses=wiring.responses)


lambda_handler = http_handler(app, wiring, style="openai")
