"""POST /api/chats: start a chat owned by the caller."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.chats import create_chat
from parley.models.api.chats import ChatEnvelope, CreateChatRequest
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.post("/api/chats", status_code=201)
def create(request: CreateChatRequest) -> ChatEnvelope:
    return ChatEnvelope(
        data=create_chat(principal(app), request, store=wiring.conversations, config=wiring.settings)
    )


lambda_handler = http_handler(app, wiring)
