"""Bodies of the operations API: a brand's daily token budgets (`/v1/quotas/{brand_id}`) and its
usage report (`/v1/usage`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from parley.models.api.types import JSON_NUMBER

Tokens = Annotated[int, Field(ge=0, le=10**15), JSON_NUMBER]


class QuotaIn(BaseModel):
    """A brand's budgets. A field left out or null goes back to the configured default; 0 means
    no limit."""

    model_config = ConfigDict(extra="forbid")

    user_daily_tokens: Tokens | None = Field(
        None, description="Tokens one user of the brand may use per UTC day."
    )
    brand_daily_tokens: Tokens | None = Field(None, description="Tokens the whole brand may use per UTC day.")


class QuotaOverrides(BaseModel):
    user_daily_tokens: int | None
    brand_daily_tokens: int | None


class Quota(BaseModel):
    brand_id: str
    user_daily_tokens: int = Field(
        description="In effect: the brand's override, else the default. 0: no limit."
    )
    brand_daily_tokens: int = Field(
        description="In effect: the brand's override, else the default. 0: no limit."
    )
    overrides: QuotaOverrides = Field(description="What the brand sets itself (null: the default applies).")
    updated_at: str | None = Field(description="When the overrides were last set; null if never.")


class QuotaEnvelope(BaseModel):
    quota: Quota


class ModelUsageOut(BaseModel):
    model: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: float
    calls: int = Field(description="Provider calls (a workflow makes one per step).")
    cached_tokens: int = Field(0, description="Of prompt_tokens: read from the provider's prompt cache.")
    cache_write_tokens: int = Field(
        0, description="Of prompt_tokens: written to the provider's prompt cache."
    )
    reasoning_tokens: int = Field(0, description="Of completion_tokens: spent reasoning.")
    guardrail_text_units: int = Field(
        0,
        description="Text units the guardrail checked on this model's turns (in cost_usd too).",
    )
    rerank_queries: int = Field(
        0, description="Of a rerank model: the queries Bedrock billed (one per 100 documents reranked)."
    )
    ratings_up: int = Field(0, description="Answers of this model users rated up that day.")
    ratings_down: int = Field(0, description="Answers of this model users rated down that day.")


class DayUsageOut(BaseModel):
    date: str = Field(description="The UTC day, YYYY-MM-DD.")
    total_tokens: int
    cost_usd: float
    requests: int = Field(description="Requests that generated (a chat message, a RAG chat, ...).")
    models: list[ModelUsageOut]
    tool_calls: int = Field(
        0, description="Calls of MCP servers' tools Parley made that day (docs/tools.md)."
    )
    tool_errors: int = Field(0, description="Of tool_calls: those that ended in an error.")
    tool_duration_ms: int = Field(0, description="The tool calls' time together, in milliseconds.")


class UsageReport(BaseModel):
    brand_id: str
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    total_tokens: int
    cost_usd: float
    requests: int
    tool_calls: int = Field(0, description="Calls of MCP servers' tools Parley made in the range.")
    days: list[DayUsageOut] = Field(description="Days with any usage, oldest first.")

    model_config = ConfigDict(populate_by_name=True)
