"""POST /v1/chat/completions: OpenAI's Chat Completions API, streamed as OpenAI streams it, on
Parley's tenancy, budgets, usage and assistants (OpenAI-compatible; errors in OpenAI's shape)."""

from parley.edge.http import MeteredBrand, create_app, http_handler, principal
from parley.edge.openai_stream import ChunkStream
from parley.edge.streaming import stream_listener, streamed
from parley.logic.openai_chat import chat_completion
from parley.models.api.openai import ChatCompletion, ChatCompletionRequest
from parley.providers.priming import register_snapstart_priming
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="openai")
register_snapstart_priming()  # SnapStart: provider SDKs imported before the snapshot, not per cold start


@app.post("/v1/chat/completions")
def completions(
    request: ChatCompletionRequest,
    brand: MeteredBrand = None,
) -> ChatCompletion:
    return chat_completion(
        principal(app),
        request,
        brand,
        catalog=wiring.catalog,
        generator=wiring.generator,
        retrieve=wiring.retriever,
        config=wiring.settings,
        listener=stream_listener(),
        sealer=wiring.sealer,
        connections=wiring.connections,
    )


lambda_handler = http_handler(app, wiring, style="openai")
stream_handler = streamed(lambda_handler, wiring, ChunkStream)  # in AWS through the Lambda Web Adapter
