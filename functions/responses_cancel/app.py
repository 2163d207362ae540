"""POST /v1/responses/{response_id}/cancel: cancel one of the caller's background responses;
it stops at its next step and stores no answer (OpenAI's shape)."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.responses import cancel_response
from parley.models.api.responses import Response
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="openai")


@app.post("/v1/responses/<response_id>/cancel")
def cancel(response_id: str) -> Response:
    return cancel_response(
        principal(app), response_id, responses=wiring.responses, stop=wiring.stream_logs.cancel
    )


lambda_handler = http_handler(app, wiring, style="openai")
