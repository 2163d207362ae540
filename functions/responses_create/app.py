"""POST /v1/responses: OpenAI's Responses API, streamed as OpenAI streams it; a stored response
is a turn of a Parley conversation, continued by `previous_response_id` (docs/openai.md). The
same code is the background worker (`background_handler`): it answers a queued response."""

from parley.edge.background_runs import background_job, queue_for, worker
from parley.edge.http import MeteredBrand, create_app, http_handler, principal
from parley.edge.responses_stream import ResponseEventStream
from parley.edge.streaming import stream_listener, streamed
from parley.logic.responses import Background, Stores, create_response, end_background
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
    background = Background(
        queue=queue_for(app.current_event.raw_event, wiring), response_id=background_job()
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
        background=background,
    )


def _ended(response_id: str, status: str, error: dict[str, object]) -> None:
    end_background(wiring.responses, response_id, status, error)


lambda_handler = http_handler(app, wiring, style="openai")
stream_handler = streamed(
    lambda_handler, wiring, ResponseEventStream
)  # in AWS through the Lambda Web Adapter
background_handler = worker(
    lambda_handler, wiring, ResponseEventStream, _ended
)  # ResponsesBackgroundFunction
