"""DELETE /v1/conversations/{conversation_id}/messages/{message_id}/feedback: take a rating back."""

from aws_lambda_powertools.event_handler import Response

from parley.http import UuidPath, create_app, http_handler, principal
from parley.logic.feedback import remove_rating

app = create_app()


@app.delete("/v1/conversations/<conversation_id>/messages/<message_id>/feedback", status_code=204)
def delete(conversation_id: UuidPath, message_id: UuidPath) -> Response[None]:
    remove_rating(principal(app), conversation_id, message_id)
    return Response(status_code=204)


lambda_handler = http_handler(app)
