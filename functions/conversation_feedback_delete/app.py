"""DELETE /v1/conversations/{conversation_id}/messages/{message_id}/feedback: take a rating back."""

from aws_lambda_powertools.event_handler import Response

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.logic.feedback import remove_rating
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.delete("/v1/conversations/<conversation_id>/messages/<message_id>/feedback", status_code=204)
def delete(conversation_id: UuidPath, message_id: UuidPath) -> Response[None]:
    remove_rating(
        principal(app),
        conversation_id,
        message_id,
        conversations=wiring.conversations,
        ratings=wiring.feedback,
    )
    return Response(status_code=204)


lambda_handler = http_handler(app, wiring)
