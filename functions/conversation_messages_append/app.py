"""POST /v1/conversations/{conversation_id}/messages: append a message, or append it and
generate the assistant's reply (document 000)."""

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.edge.streaming import stream_listener, streamed
from parley.logic.bound_assistant import Assistants
from parley.logic.messages import append_message
from parley.models.api.conversations import AppendMessageRequest, AppendMessageResponse
from parley.providers.priming import register_snapstart_priming
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()
register_snapstart_priming()  # SnapStart: provider SDKs imported before the snapshot, not per cold start


@app.post("/v1/conversations/<conversation_id>/messages")
def append(conversation_id: UuidPath, request: AppendMessageRequest) -> AppendMessageResponse:
    listener = stream_listener() if request.mode == "chat-completion" else None
    return append_message(
        principal(app),
        conversation_id,
        request,
        store=wiring.conversations,
        branches=wiring.branches,
        generator=wiring.generator,
        config=wiring.settings,
        listener=listener,
        assistants=Assistants(wiring.catalog, wiring.retriever, wiring.sealer, wiring.connections),
    )


lambda_handler = http_handler(app, wiring)
stream_handler = streamed(
    lambda_handler, wiring
)  # in AWS through the Lambda Web Adapter (parley.edge.web_adapter)
