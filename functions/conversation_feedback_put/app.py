"""PUT /v1/conversations/{conversation_id}/messages/{message_id}/feedback: rate an assistant
message up or down (with a comment and reasons); setting it again replaces it."""

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.logic.feedback import rate_message
from parley.models.api.feedback import FeedbackEnvelope, FeedbackIn
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.put("/v1/conversations/<conversation_id>/messages/<message_id>/feedback")
def put(conversation_id: UuidPath, message_id: UuidPath, request: FeedbackIn) -> FeedbackEnvelope:
    return FeedbackEnvelope(
        feedback=rate_message(
            principal(app),
            conversation_id,
            message_id,
            request,
            conversations=wiring.conversations,
            ratings=wiring.feedback,
            clock=wiring.clock,
            config=wiring.settings,
        )
    )


lambda_handler = http_handler(app, wiring)
