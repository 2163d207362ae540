"""POST /v1/conversations/{conversation_id}/messages: append a message, or append it and
generate the assistant's reply (document 000)."""

from parley.http import UuidPath, create_app, http_handler, principal
from parley.logic.messages import append_message
from parley.models.api.conversations import AppendMessageRequest, AppendMessageResponse
from parley.providers.priming import register_snapstart_priming

app = create_app()
register_snapstart_priming()  # SnapStart: provider SDKs imported before the snapshot, not per cold start


@app.post("/v1/conversations/<conversation_id>/messages")
def append(conversation_id: UuidPath, request: AppendMessageRequest) -> AppendMessageResponse:
    return append_message(principal(app), conversation_id, request)


lambda_handler = http_handler(app)
