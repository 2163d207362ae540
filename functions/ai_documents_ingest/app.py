"""POST /v1/ai/documents: ingest one document or a batch into the brand's RAG scope."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.ingest import ingest_documents
from parley.models.api.rag import DocumentBatch, DocumentIn, IngestResponse
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.post("/v1/ai/documents", status_code=201)
def ingest(request: DocumentIn | DocumentBatch) -> IngestResponse:
    documents = request.documents if isinstance(request, DocumentBatch) else [request]
    return ingest_documents(
        principal(app),
        documents,
        store=wiring.vectors,
        embed=wiring.embedder,
        registry=wiring.documents,
        config=wiring.settings,
        clock=wiring.clock,
    )


lambda_handler = http_handler(app, wiring)
