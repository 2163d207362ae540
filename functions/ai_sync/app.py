"""POST /v1/ai/sync: reconcile a brand's synced folder (`sync/<brand>/<scope>/` in the files bucket)
with its index (scope admin): 202 with what will be added, updated and removed; the files worker
does it, one queued check per key."""

from parley.edge.http import create_app, http_handler, principal
from parley.logic.sync import plan_sync, prefix_of
from parley.models.api.rag import SyncAccepted, SyncIn
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
app = create_app()


@app.post("/v1/ai/sync", status_code=202)
def sync(request: SyncIn) -> SyncAccepted:
    plan = plan_sync(
        principal(app),
        request.brand_id,
        request.rag_scope,
        registry=wiring.documents,
        storage=wiring.required_files(),
    )
    wiring.sync_queue.send(plan.keys)
    return SyncAccepted(
        brand_id=request.brand_id,
        rag_scope=request.rag_scope,
        prefix=prefix_of(request.brand_id, request.rag_scope),
        add=len(plan.add),
        update=len(plan.update),
        remove=len(plan.remove),
    )


lambda_handler = http_handler(app, wiring)
