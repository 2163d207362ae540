"""PATCH /v1/conversations/{conversation_id}: choose the active branch (`active_message_id`)."""

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.logic.branching.switch import switch_branch
from parley.models.api.conversations import ConversationEnvelope, UpdateConversationRequest
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.patch("/v1/conversations/<conversation_id>")
def update(conversation_id: UuidPath, request: UpdateConversationRequest) -> ConversationEnvelope:
    return ConversationEnvelope(
        conversation=switch_branch(
            principal(app), conversation_id, request, store=wiring.conversations, branches=wiring.branches
        )
    )


lambda_handler = http_handler(app, wiring)
