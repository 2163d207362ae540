"""DELETE /v1/conversations/{conversation_id}: remove a conversation and every message in it."""

from aws_lambda_powertools.event_handler import Response

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.logic.conversations import delete_conversation
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.delete("/v1/conversations/<conversation_id>", status_code=204)
def delete(conversation_id: UuidPath) -> Response[None]:
    delete_conversation(principal(app), conversation_id, store=wiring.conversations)
    return Response(status_code=204)


lambda_handler = http_handler(app, wiring)
