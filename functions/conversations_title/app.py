"""POST /v1/conversations/{conversation_id}/title: a new generated title (a short, metered model
call); a title the user set is never replaced (409)."""

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.logic.titles import regenerate_title
from parley.models.api.conversations import ConversationEnvelope
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.post("/v1/conversations/<conversation_id>/title")
def retitle(conversation_id: UuidPath) -> ConversationEnvelope:
    return ConversationEnvelope(
        conversation=regenerate_title(
            principal(app),
            conversation_id,
            store=wiring.conversations,
            generator=wiring.generator,
            config=wiring.settings,
        )
    )


lambda_handler = http_handler(app, wiring)
