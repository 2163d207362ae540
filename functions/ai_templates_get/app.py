"""GET /v1/ai/templates/{template_id}?brand_id=&version=: a template version, the latest by default."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.http import create_app, http_handler, principal
from parley.logic.catalog import get_template
from parley.models.api.rag import TemplateEnvelope
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.get("/v1/ai/templates/<template_id>")
def read(
    template_id: str,
    brand_id: Annotated[str, Query(min_length=1, max_length=100)],
    version: Annotated[str | None, Query(pattern=r"^[1-9][0-9]{0,5}$")] = None,
) -> TemplateEnvelope:
    return TemplateEnvelope(
        template=get_template(principal(app), brand_id, template_id, version, store=wiring.catalog)
    )


lambda_handler = http_handler(app, wiring)
