"""Workflows: an ordered list of prompt steps, each step's output feeding the next. Stored as
configuration; run when a chat message names one."""

from __future__ import annotations

import time

from parley.auth.principal import ADMIN, Principal
from parley.config import Settings
from parley.errors import ParleyError, ProviderTimeout, WorkflowNotFound, WorkflowStepFailed
from parley.ids import uuid7
from parley.logic.generation import Generation
from parley.logic.limits import require_uuid
from parley.models.api.workflows import CreateWorkflowRequest, Workflow
from parley.models.domain import Conversation, Message, TokenUsage, timestamp
from parley.placeholders import expand_placeholders
from parley.providers.base import ChatRequest, PromptMessage
from parley.providers.registry import model_spec
from parley.store.catalog import CatalogStore


def create_workflow(
    principal: Principal, request: CreateWorkflowRequest, *, store: CatalogStore, config: Settings
) -> Workflow:
    principal.require(ADMIN)
    if request.brandId is not None:
        principal.require_brand(request.brandId)
    for step in request.steps:
        if step.modelId is not None:
            model_spec(step.modelId, config)  # an unknown model is refused now, not when a chat runs the step
    workflow = Workflow(
        id=str(uuid7()),
        name=request.name,
        steps=request.steps,
        brandId=request.brandId,
        createdAt=timestamp(),
    )
    store.put_workflow(workflow, owner=principal.user_id)
    return workflow


def get_workflow(principal: Principal, workflow_id: str, *, store: CatalogStore) -> Workflow:
    principal.require(ADMIN)
    return usable_workflow(principal, workflow_id, store=store)


def usable_workflow(principal: Principal, workflow_id: str, *, store: CatalogStore) -> Workflow:
    """The workflow if it exists and the caller may use it: a brand's workflow by the brand's
    users, a workflow created without a brand by its creator alone. Any other reads as missing."""
    workflow_id = require_uuid(workflow_id, "workflow_id")
    found = store.get_workflow(workflow_id)
    if found is None:
        raise WorkflowNotFound(workflow_id)
    workflow, owner = found
    if workflow.brandId is None and owner != principal.user_id:
        raise WorkflowNotFound(workflow_id)
    if workflow.brandId is not None and workflow.brandId not in principal.brands:
        raise WorkflowNotFound(workflow_id)
    return workflow


def run_workflow(
    workflow: Workflow,
    conversation: Conversation,
    content: str,
    default_model: str,
    generation: Generation,
    *,
    config: Settings,
) -> Message:
    """Run the steps in order within one overall deadline; the last output is the reply. Per-step
    model, usage and duration go into the reply's metadata. A failing step raises, naming it.
    Only the last step streams to the generation's listener (the earlier steps' outputs
    are only prompts for the next)."""
    deadline = time.monotonic() + config.workflow_timeout_seconds
    previous, records = "", []
    prompt_tokens = completion_tokens = 0
    total_cost, completion = 0.0, None
    for number, step in enumerate(workflow.steps, start=1):
        spec = model_spec(step.modelId or default_model, config)
        prompt = expand_placeholders(step.prompt, {"input": content, "previous": previous})
        request = ChatRequest(
            model=spec.id,
            system_prompt=conversation.system_prompt,
            messages=[PromptMessage("user", prompt)],
            max_tokens=spec.max_output_tokens,
        )
        try:
            remaining = min(config.provider_timeout_seconds, deadline - time.monotonic())
            if remaining <= 0:
                raise ProviderTimeout("the workflow ran out of time before this step")
            last = number == len(workflow.steps)
            completion, duration_ms = generation.call(spec, request, remaining, streamed=last)
        except ParleyError as failure:
            raise WorkflowStepFailed(
                f"Workflow step {number} of {len(workflow.steps)} ({spec.id}) failed: {failure.message}"
            ) from failure
        previous = completion.content
        prompt_tokens += completion.usage.prompt_tokens
        completion_tokens += completion.usage.completion_tokens
        total_cost += spec.cost_usd(completion.usage, completion.metadata)
        records.append(
            {
                "step": number,
                "modelId": spec.id,
                "model": completion.model,
                "usage": completion.usage.model_dump(),
                "durationMs": duration_ms,
            }
        )
    assert completion is not None  # a workflow has at least one step
    return Message.new(
        conversation.id,
        "assistant",
        previous,
        token_usage=TokenUsage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        ),
        metadata={
            "workflow": {"id": workflow.id, "name": workflow.name, "steps": records},
            "model": completion.model,
            "finish_reason": completion.finish_reason,
            "cost_usd": round(total_cost, 8),
        },
    )
