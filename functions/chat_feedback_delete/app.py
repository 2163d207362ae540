"""DELETE /api/chats/{chatId}/messages/{messageId}/feedback: take a rating back."""

from aws_lambda_powertools.event_handler import Response

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.logic.access import CHATS
from parley.logic.feedback import remove_rating
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.delete("/api/chats/<chatId>/messages/<messageId>/feedback", status_code=204)
def delete(chatId: UuidPath, messageId: UuidPath) -> Response[None]:  # noqa: N803 - the document's names
    remove_rating(
        principal(app),
        chatId,
        messageId,
        policy=CHATS,
        conversations=wiring.conversations,
        ratings=wiring.feedback,
    )
    return Response(status_code=204)


lambda_handler = http_handler(app, wiring)
