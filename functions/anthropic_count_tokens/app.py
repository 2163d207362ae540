"""POST /v1/messages/count_tokens: the input tokens of a Messages request (Anthropic's shape)."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.anthropic_messages import count_tokens
from parley.models.api.anthropic import CountTokensRequest, TokenCount
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app(style="anthropic")


@app.post("/v1/messages/count_tokens")
def counted(request: CountTokensRequest) -> TokenCount:
    return count_tokens(principal(app), request, wiring.settings)


lambda_handler = http_handler(app, wiring, style="anthropic")
