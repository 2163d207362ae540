"""POST /v1/embeddings: vectors from the deployment's embedder, as floats or base64 (OpenAI-compatible),
metered in the brand as every OpenAI-compatible route is."""

from parley.edge.http import MeteredBrand, create_app, http_handler, principal
from parley.logic.openai_models import embeddings
from parley.models.api.openai import EmbeddingList, EmbeddingRequest
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="openai")


@app.post("/v1/embeddings")
def embed(
    request: EmbeddingRequest,
    brand: MeteredBrand = None,
) -> EmbeddingList:
    return embeddings(
        principal(app),
        request,
        brand,
        model=wiring.embedder,
        generator=wiring.generator,
        config=wiring.settings,
    )


lambda_handler = http_handler(app, wiring, style="openai")
