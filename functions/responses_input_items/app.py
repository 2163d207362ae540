"""GET /v1/responses/{response_id}/input_items: the input items of one of the caller's responses."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.responses import input_items
from parley.models.api.responses import InputItemList
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="openai")


@app.get("/v1/responses/<response_id>/input_items")
def listed(response_id: str) -> InputItemList:
    return input_items(principal(app), response_id, responses=wiring.responses)


lambda_handler = http_handler(app, wiring, style="openai")
