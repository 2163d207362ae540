"""GET /v1/ai/assistants/{assistant_id}: one of the caller's brands' assistants (scope admin)."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.catalog import get_assistant
from parley.models.api.rag import AssistantEnvelope
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.get("/v1/ai/assistants/<assistant_id>")
def read(assistant_id: str) -> AssistantEnvelope:
    return AssistantEnvelope(assistant=get_assistant(principal(app), assistant_id, store=wiring.catalog))


lambda_handler = http_handler(app, wiring)
