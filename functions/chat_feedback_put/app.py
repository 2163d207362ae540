"""PUT /api/chats/{chatId}/messages/{messageId}/feedback: rate a response (the chats API's style:
camelCase, `data`-wrapped, another user's chat a 403)."""

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.logic.access import CHATS
from parley.logic.feedback import rate_message
from parley.models.api.feedback import ChatFeedback, ChatFeedbackEnvelope, FeedbackIn
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.put("/api/chats/<chatId>/messages/<messageId>/feedback")
def put(chatId: UuidPath, messageId: UuidPath, request: FeedbackIn) -> ChatFeedbackEnvelope:  # noqa: N803 - the document's names
    feedback = rate_message(
        principal(app),
        chatId,
        messageId,
        request,
        policy=CHATS,
        conversations=wiring.conversations,
        ratings=wiring.feedback,
        clock=wiring.clock,
        config=wiring.settings,
    )
    return ChatFeedbackEnvelope(data=ChatFeedback.of(feedback))


lambda_handler = http_handler(app, wiring)
