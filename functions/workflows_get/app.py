"""GET /api/workflows/{workflowId}: one workflow (scope admin)."""

from parley.edge.http import UuidPath, create_app, http_handler, principal
from parley.logic.workflows import get_workflow
from parley.models.api.workflows import WorkflowEnvelope
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.get("/api/workflows/<workflowId>")
def read(workflowId: UuidPath) -> WorkflowEnvelope:  # noqa: N803 - the document's style
    return WorkflowEnvelope(data=get_workflow(principal(app), workflowId, store=wiring.catalog))


lambda_handler = http_handler(app, wiring)
