"""POST /v1/responses: OpenAI's Responses API, streamed as OpenAI streams it; a stored response
is a turn of a Parley conversation, continued by `previous_response_id` (docs/openai.md)."""

from parley.edge.http import MeteredBrand, create_app, http_handler, principal
from parley.edge.responses_stream import ResponseEventStream
from parley.edge.streaming import stream_listener, streamed
from parley.logic.responses import Stores, create_response
from parley.models.api.responses import Response, ResponseRequest
from parley.providers.priming import register_snapstart_priming
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="openai")
register_snapstart_priming()  # SnapStart: provider SDKs imported before the snapshot, not per cold start


@app.post("/v1/responses")
def respond(request: ResponseRequest, brand: MeteredBrand = None) -> Response:
    stores = Stores(
        conversations=wiring.conversations,
        branches=wiring.branches,
        responses=wiring.responses,
        catalog=wiring.catalog,
        connections=wiring.connections,
    )
    return create_response(
        principal(app),
        request,
        brand,
        stores=stores,
        generator=wiring.generator,
        retrieve=wiring.retriever,
        config=wiring.settings,
        listener=stream_listener(),
        sealer=wiring.sealer,
    )


lambda_handler = http_handler(app, wiring, style="openai")
stream_handler = streamed(
    lambda_handler, wiring, ResponseEventStream
)  # in AWS through the Lambda Web Adapter
