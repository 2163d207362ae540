"""POST /v1/ai/assistants: a brand's assistant, the defaults a RAG chat starts from (scope admin)."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.catalog import create_assistant
from parley.models.api.rag import AssistantEnvelope, AssistantIn
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.post("/v1/ai/assistants", status_code=201)
def create(request: AssistantIn) -> AssistantEnvelope:
    assistant = create_assistant(
        principal(app), request, store=wiring.catalog, config=wiring.settings, sealer=wiring.sealer
    )
    return AssistantEnvelope(assistant=assistant)


lambda_handler = http_handler(app, wiring)
