"""PUT /v1/quotas/{brand_id}: set a brand's daily token budgets (scope admin)."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.usage import set_quota
from parley.models.api.usage import QuotaEnvelope, QuotaIn
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.put("/v1/quotas/<brand_id>")
def replace(brand_id: str, request: QuotaIn) -> QuotaEnvelope:
    return QuotaEnvelope(quota=set_quota(principal(app), brand_id, request, budgets=wiring.budgets))


lambda_handler = http_handler(app, wiring)
