"""POST /api/workflows: store a workflow of 1-10 prompt steps (scope admin)."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.workflows import create_workflow
from parley.models.api.workflows import CreateWorkflowRequest, WorkflowEnvelope
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.post("/api/workflows", status_code=201)
def create(request: CreateWorkflowRequest) -> WorkflowEnvelope:
    return WorkflowEnvelope(
        data=create_workflow(principal(app), request, store=wiring.catalog, config=wiring.settings)
    )


lambda_handler = http_handler(app, wiring)
