"""POST /v1/ai/files: a presigned upload for a file (PDF, Word, HTML, Markdown, text), which is
then parsed and ingested in the background; its status is at GET /v1/ai/documents/{id}."""

from parley.http import create_app, http_handler, principal
from parley.logic.files import accept_file
from parley.models.api.rag import FileAccepted, FileIn
from parley.store.documents import document_registry
from parley.store.files import file_storage

app = create_app()


@app.post("/v1/ai/files", status_code=201)
def create(request: FileIn) -> FileAccepted:
    return accept_file(principal(app), request, document_registry(), file_storage())


lambda_handler = http_handler(app)
