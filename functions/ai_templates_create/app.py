"""POST /v1/ai/templates: a new version of a brand's prompt template (scope admin)."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.catalog import create_template_version
from parley.models.api.rag import TemplateEnvelope, TemplateIn
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.post("/v1/ai/templates", status_code=201)
def create(request: TemplateIn) -> TemplateEnvelope:
    return TemplateEnvelope(template=create_template_version(principal(app), request, store=wiring.catalog))


lambda_handler = http_handler(app, wiring)
