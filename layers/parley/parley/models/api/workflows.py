"""Bodies of the workflows API (`/api/workflows`), in the chats API's camelCase style."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_STEPS = 10


class WorkflowStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(
        min_length=1,
        max_length=16_000,
        description="A template: {{input}} is the message, {{previous}} the previous step's output.",
    )
    modelId: str | None = Field(None, min_length=1, max_length=100)
    ragScope: str | None = Field(None, min_length=1, max_length=100)


class CreateWorkflowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    steps: list[WorkflowStep] = Field(min_length=1, max_length=MAX_STEPS)
    brandId: str | None = Field(None, min_length=1, max_length=100)


class Workflow(BaseModel):
    id: str = Field(json_schema_extra={"format": "uuid"})
    name: str
    steps: list[WorkflowStep]
    brandId: str | None
    createdAt: str


class WorkflowEnvelope(BaseModel):
    data: Workflow
