"""GET /v1/responses/{response_id}: one of the caller's stored responses (OpenAI's shape); with
`stream=true`, its stream again from the event after `starting_after` (a streamed or background
response whose stream is still logged)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.http import create_app, http_handler, principal
from parley.edge.reattach import resumed
from parley.edge.responses_stream import ResponseEventStream
from parley.logic.responses import get_response
from parley.models.api.responses import Response
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="openai")


@app.get("/v1/responses/<response_id>")
def read(
    response_id: str,
    stream: Annotated[
        bool | None, Query(description="true: the response's events again, as server-sent events")
    ] = None,
    starting_after: Annotated[
        int | None, Query(ge=0, description="with stream: the events after this sequence_number")
    ] = None,
) -> Response:
    return get_response(principal(app), response_id, responses=wiring.responses)


lambda_handler = http_handler(app, wiring, style="openai")
stream_handler = resumed(
    lambda_handler, wiring, "POST /v1/responses", ResponseEventStream
)  # in AWS through the Lambda Web Adapter
