"""POST /v1/conversations/{conversation_id}/messages/{message_id}/regenerate: another answer to
the turns an assistant message answered, its sibling, on the active branch from now on; streamed
like a chat-completion append when asked."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.edge.streaming import stream_listener, streamed
from parley.logic.bound_assistant import Assistants
from parley.logic.messages import regenerate_answer
from parley.models.api.conversations import RegenerateRequest, RegenerateResponse
from parley.providers.priming import register_snapstart_priming
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()
register_snapstart_priming()  # SnapStart: provider SDKs imported before the snapshot, not per cold start


@app.post("/v1/conversations/<conversation_id>/messages/<message_id>/regenerate")
def regenerate(
    conversation_id: UuidPath,
    message_id: UuidPath,
    request: Annotated[RegenerateRequest | None, Body()] = None,
) -> RegenerateResponse:
    return regenerate_answer(
        principal(app),
        conversation_id,
        message_id,
        request or RegenerateRequest(),
        store=wiring.conversations,
        branches=wiring.branches,
        generator=wiring.generator,
        config=wiring.settings,
        listener=stream_listener(),
        assistants=Assistants(wiring.catalog, wiring.retriever, wiring.sealer, wiring.connections),
    )


lambda_handler = http_handler(app, wiring)
stream_handler = streamed(
    lambda_handler, wiring
)  # in AWS through the Lambda Web Adapter (parley.edge.web_adapter)
