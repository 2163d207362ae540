"""GET /v1/conversations: the caller's conversations, newest first, a page at a time."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.http import UuidCursor, create_app, http_handler, principal
from parley.logic.conversations import list_conversations
from parley.models.api.conversations import ConversationPage
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.get("/v1/conversations")
def list_page(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: UuidCursor = None,
) -> ConversationPage:
    return list_conversations(principal(app), limit, cursor, store=wiring.conversations)


lambda_handler = http_handler(app, wiring)
