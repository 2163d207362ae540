"""POST /v1/ai/chat: a RAG-grounded answer with its context and citations (document 003)."""

from parley.edge.http import create_app, http_handler, principal
from parley.edge.streaming import stream_listener, streamed
from parley.logic.rag_chat import rag_chat
from parley.models.api.rag import RagChatRequest, RagChatResponse
from parley.providers.priming import register_snapstart_priming
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()
register_snapstart_priming()  # SnapStart: provider SDKs imported before the snapshot, not per cold start


@app.post("/v1/ai/chat")
def chat(request: RagChatRequest) -> RagChatResponse:
    return rag_chat(
        principal(app),
        request,
        catalog=wiring.catalog,
        generator=wiring.generator,
        retrieve=wiring.retriever,
        config=wiring.settings,
        listener=stream_listener(),
        sealer=wiring.sealer,
        connections=wiring.connections,
    )


lambda_handler = http_handler(app, wiring)
stream_handler = streamed(
    lambda_handler, wiring
)  # in AWS through the Lambda Web Adapter (parley.edge.web_adapter)
