"""GET /v1/conversations/{conversation_id}/export?format=markdown|json: the whole conversation,
with roles, times, models, citations and ratings (Markdown for people, JSON to re-import)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.logic.export import ExportFormat, export_conversation
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.get("/v1/conversations/<conversation_id>/export")
def export(
    conversation_id: UuidPath,
    format: Annotated[ExportFormat, Query(description="markdown for people, json to re-import")] = "json",
) -> Response[str]:
    body, content_type = export_conversation(
        principal(app), conversation_id, format, store=wiring.conversations, branches=wiring.branches
    )
    extension = "md" if format == "markdown" else "json"
    return Response(
        status_code=200,
        content_type=content_type,
        body=body,
        headers={"Content-Disposition": f'attachment; filename="conversation-{conversation_id}.{extension}"'},
    )


lambda_handler = http_handler(app, wiring)
