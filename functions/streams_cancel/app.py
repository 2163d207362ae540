"""POST /v1/streams/{stream_id}/cancel: stop a streamed answer that is still being generated
(a dropped connection no longer stops one). The stream id is the part of its events' `id:`
before the colon; only the caller who started the stream may stop it."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.streams import cancel_stream
from parley.models.api.streams import CancelledStream
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.post("/v1/streams/<stream_id>/cancel")
def cancel(stream_id: str) -> CancelledStream:
    return cancel_stream(principal(app), stream_id, logs=wiring.stream_logs)


lambda_handler = http_handler(app, wiring)
