"""POST /api/chats/{chatId}/messages: a message and the assistant's response (document 002)."""

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.edge.streaming import stream_listener, streamed
from parley.logic.chats import send_chat_message
from parley.models.api.chats import CreateChatMessageRequest, SentChatMessageEnvelope
from parley.providers.priming import register_snapstart_priming
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()
register_snapstart_priming()  # SnapStart: provider SDKs imported before the snapshot, not per cold start


@app.post("/api/chats/<chatId>/messages", status_code=201)
def send(chatId: UuidPath, request: CreateChatMessageRequest) -> SentChatMessageEnvelope:  # noqa: N803 - the document's name
    return SentChatMessageEnvelope(
        data=send_chat_message(
            principal(app),
            chatId,
            request,
            store=wiring.conversations,
            catalog=wiring.catalog,
            generator=wiring.generator,
            config=wiring.settings,
            listener=stream_listener(),
        )
    )


lambda_handler = http_handler(app, wiring)
stream_handler = streamed(
    lambda_handler, wiring
)  # in AWS through the Lambda Web Adapter (parley.edge.web_adapter)
