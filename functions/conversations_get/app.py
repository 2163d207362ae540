"""GET /v1/conversations/{conversation_id}: one of the caller's conversations."""

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.logic.conversations import get_conversation
from parley.models.api.conversations import ConversationEnvelope
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.get("/v1/conversations/<conversation_id>")
def read(conversation_id: UuidPath) -> ConversationEnvelope:
    return ConversationEnvelope(
        conversation=get_conversation(principal(app), conversation_id, store=wiring.conversations)
    )


lambda_handler = http_handler(app, wiring)
