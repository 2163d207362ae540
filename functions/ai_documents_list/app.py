"""GET /v1/ai/documents?brand_id=&rag_scope=&limit=&cursor=: a brand's documents, each with its
status, a page at a time."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.http import create_app, http_handler, principal
from parley.logic.document_list import list_documents
from parley.models.api.rag import DocumentPage
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.get("/v1/ai/documents")
def listing(
    brand_id: Annotated[str, Query(min_length=1, max_length=100)],
    rag_scope: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1000)] = None,
) -> DocumentPage:
    return list_documents(principal(app), brand_id, rag_scope, limit, cursor, registry=wiring.documents)


lambda_handler = http_handler(app, wiring)
