"""POST /v1/ai/files: a presigned upload for a file (PDF, Word, HTML, Markdown, text), which is
then parsed and ingested in the background; its status is at GET /v1/ai/documents/{id}."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.files import accept_file
from parley.models.api.rag import FileAccepted, FileIn
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.post("/v1/ai/files", status_code=201)
def create(request: FileIn) -> FileAccepted:
    return accept_file(
        principal(app),
        request,
        registry=wiring.documents,
        storage=wiring.required_files(),
        clock=wiring.clock,
    )


lambda_handler = http_handler(app, wiring)
