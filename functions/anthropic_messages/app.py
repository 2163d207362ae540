"""POST /v1/messages: Anthropic's Messages API, streamed as Anthropic streams it, on Parley's
models and assistants, tenancy, budgets and usage (errors in Anthropic's shape; docs/anthropic.md)."""

from parley.edge.anthropic_stream import MessageStream
from parley.edge.http import MeteredBrand, create_app, http_handler, principal
from parley.edge.streaming import stream_listener, streamed
from parley.logic.anthropic_messages import create_message
from parley.models.api.anthropic import AnthropicMessage, MessagesRequest
from parley.providers.priming import register_snapstart_priming
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="anthropic")
register_snapstart_priming()  # SnapStart: provider SDKs imported before the snapshot, not per cold start


@app.post("/v1/messages")
def messages(request: MessagesRequest, brand: MeteredBrand = None) -> AnthropicMessage:
    return create_message(
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


lambda_handler = http_handler(app, wiring, style="anthropic")
stream_handler = streamed(lambda_handler, wiring, MessageStream)  # in AWS through the Lambda Web Adapter
