"""GET /v1/models/{model_id}: one model of GET /v1/models (OpenAI-compatible; 404
model_not_found in OpenAI's shape)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.edge.http import create_app, http_handler, principal
from parley.logic.openai_models import get_model
from parley.models.api.openai import ModelCard
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="openai")


@app.get("/v1/models/<model_id>")
def model(model_id: Annotated[str, Path(min_length=1, max_length=256)]) -> ModelCard:
    return get_model(principal(app), model_id, store=wiring.catalog, config=wiring.settings)


# An endpoint's model (`<endpoint>/<id>`), its slash sent encoded (`%2F`): the event's path is
# decoded, so it arrives as two segments.
@app.get("/v1/models/<endpoint>/<model_id>", include_in_schema=False)
def endpoint_model(
    endpoint: Annotated[str, Path(min_length=1, max_length=32)],
    model_id: Annotated[str, Path(min_length=1, max_length=200)],
) -> ModelCard:
    return model(f"{endpoint}/{model_id}")


lambda_handler = http_handler(app, wiring, style="openai")
