"""POST /v1/embeddings: vectors from the deployment's embedder, as floats or base64 (OpenAI-compatible)."""

from parley.http import create_app, http_handler, principal
from parley.logic.openai_models import embeddings
from parley.models.api.openai import EmbeddingList, EmbeddingRequest
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="openai")


@app.post("/v1/embeddings")
def embed(request: EmbeddingRequest) -> EmbeddingList:
    return embeddings(principal(app), request, model=wiring.embedder)


lambda_handler = http_handler(app, wiring, style="openai")
