"""POST /v1/conversations/import: a conversation exported as JSON, taken back whole (every branch)
as a new conversation of the caller's."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.conversation_import import import_conversation
from parley.models.api.conversations import ConversationEnvelope, ConversationImport
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.post("/v1/conversations/import", status_code=201)
def import_(request: ConversationImport) -> ConversationEnvelope:
    return ConversationEnvelope(
        conversation=import_conversation(
            principal(app), request, store=wiring.conversations, config=wiring.settings
        )
    )


lambda_handler = http_handler(app, wiring)
