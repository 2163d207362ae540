"""GET /v1/ai/documents/{document_id}?brand_id=&rag_scope=: a document's status (pending,
processing, ready or failed with the reason), its file and its chunks."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.http import create_app, http_handler, principal
from parley.logic.ingest import document_status
from parley.models.api.rag import DocumentStatus
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.get("/v1/ai/documents/<document_id>")
def status(
    document_id: str,
    brand_id: Annotated[str, Query(min_length=1, max_length=100)],
    rag_scope: Annotated[str, Query(min_length=1, max_length=128)],
) -> DocumentStatus:
    return document_status(principal(app), document_id, brand_id, rag_scope, registry=wiring.documents)


lambda_handler = http_handler(app, wiring)
