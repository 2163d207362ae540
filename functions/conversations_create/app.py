"""POST /v1/conversations: start a conversation owned by the caller."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.conversations import create_conversation
from parley.models.api.conversations import ConversationEnvelope, CreateConversationRequest
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.post("/v1/conversations", status_code=201)
def create(request: CreateConversationRequest) -> ConversationEnvelope:
    return ConversationEnvelope(
        conversation=create_conversation(
            principal(app),
            request,
            store=wiring.conversations,
            config=wiring.settings,
            catalog=wiring.catalog,
        )
    )


lambda_handler = http_handler(app, wiring)
