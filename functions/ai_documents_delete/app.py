"""DELETE /v1/ai/documents/{document_id}?brand_id=&rag_scope=: remove every chunk of a document,
and its uploaded file."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.http import create_app, http_handler, principal
from parley.logic.ingest import delete_document
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.delete("/v1/ai/documents/<document_id>", status_code=204)
def delete(
    document_id: str,
    brand_id: Annotated[str, Query(min_length=1, max_length=100)],
    rag_scope: Annotated[str, Query(min_length=1, max_length=128)],
) -> Response[None]:
    delete_document(
        principal(app),
        document_id,
        brand_id,
        rag_scope,
        store=wiring.vectors,
        registry=wiring.documents,
        remove_file=wiring.files.delete if wiring.files else None,
    )
    return Response(status_code=204)


lambda_handler = http_handler(app, wiring)
