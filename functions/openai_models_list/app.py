"""GET /v1/models: the models this deployment serves and the caller's brands' assistants, in
OpenAI's list shape (OpenAI-compatible; errors in OpenAI's shape)."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.openai_models import list_models
from parley.models.api.openai import ModelList
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="openai")


@app.get("/v1/models")
def models() -> ModelList:
    return list_models(principal(app), store=wiring.catalog, config=wiring.settings)


lambda_handler = http_handler(app, wiring, style="openai")
