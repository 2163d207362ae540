"""GET /api/chats/{chatId}/messages: the chat's messages, a page at a time."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.http import UuidCursor, UuidPath, create_app, http_handler, principal
from parley.logic.chats import chat_messages
from parley.models.api.chats import ChatMessagePage
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.get("/api/chats/<chatId>/messages")
def page(
    chatId: UuidPath,  # noqa: N803 - the document's name
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: UuidCursor = None,
) -> ChatMessagePage:
    return chat_messages(principal(app), chatId, limit, cursor, store=wiring.conversations)


lambda_handler = http_handler(app, wiring)
