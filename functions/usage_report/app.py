"""GET /v1/usage?brand_id=&from=&to=: a brand's tokens and cost per day and model (scope admin)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.http import create_app, http_handler, principal
from parley.logic.usage import usage_report
from parley.models.api.usage import UsageReport
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()

DAY = r"^\d{4}-\d{2}-\d{2}$"


@app.get("/v1/usage")
def report(
    brand_id: Annotated[str, Query(min_length=1, max_length=100)],
    from_: Annotated[
        str | None,
        Query(alias="from", pattern=DAY, description="First UTC day; default: 29 days before `to`."),
    ] = None,
    to: Annotated[
        str | None, Query(pattern=DAY, description="Last UTC day (YYYY-MM-DD); default: today.")
    ] = None,
) -> UsageReport:
    return usage_report(principal(app), brand_id, from_, to, store=wiring.usage, clock=wiring.clock)


lambda_handler = http_handler(app, wiring)
