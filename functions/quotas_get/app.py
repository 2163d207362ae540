"""GET /v1/quotas/{brand_id}: a brand's daily token budgets, in effect and overridden (scope admin)."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.usage import get_quota
from parley.models.api.usage import QuotaEnvelope
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.get("/v1/quotas/<brand_id>")
def read(brand_id: str) -> QuotaEnvelope:
    return QuotaEnvelope(quota=get_quota(principal(app), brand_id, budgets=wiring.budgets))


lambda_handler = http_handler(app, wiring)
