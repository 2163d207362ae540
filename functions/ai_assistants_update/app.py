"""PUT /v1/ai/assistants/{assistant_id}: one of the caller's brands' assistants, changed (scope admin)."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.assistant_updates import update_assistant
from parley.models.api.rag import AssistantEnvelope, AssistantIn
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.put("/v1/ai/assistants/<assistant_id>")
def update(assistant_id: str, request: AssistantIn) -> AssistantEnvelope:
    assistant = update_assistant(
        principal(app),
        assistant_id,
        request,
        store=wiring.catalog,
        config=wiring.settings,
        sealer=wiring.sealer,
    )
    return AssistantEnvelope(assistant=assistant)


lambda_handler = http_handler(app, wiring)
