"""GET /v1/conversations/{conversation_id}/messages: the history page of document 001."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.http import UuidCursor, UuidPath, create_app, http_handler, principal
from parley.logic.messages import message_history
from parley.models.api.conversations import MessageHistory
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.get("/v1/conversations/<conversation_id>/messages")
def history(
    conversation_id: UuidPath,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: UuidCursor = None,  # a message id: the page ends just before it
) -> MessageHistory:
    return message_history(principal(app), conversation_id, limit, before, store=wiring.conversations)


lambda_handler = http_handler(app, wiring)
