"""The module-level logger and metrics every function shares, configured by the
POWERTOOLS_* variables in the template's Globals."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from parley.models.domain import TokenUsage
from parley.redaction import RedactingFilter

logger = Logger()
logger.addFilter(RedactingFilter())
metrics = Metrics()
# No Powertools Tracer: importing the X-Ray SDK costs ~100 ms of every cold start (a third of a
# handler's import, measured by `make bench`). Lambda's active tracing (template Globals) records
# each invocation's segment without it.


def _metrics(**dimensions: str) -> EphemeralMetrics:
    """A group of metrics with their own dimensions, flushed as one EMF record."""
    group = EphemeralMetrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Parley")
    for name, value in dimensions.items():
        group.add_dimension(name=name, value=value)
    return group


def record_generation(
    model: str,
    brand_id: str | None,
    usage: TokenUsage,
    cost_usd: float,
    latency_ms: int,
    *,
    first_token_ms: int | None = None,
) -> None:
    """Tokens in and out, cost and provider latency, per model and brand; for a streamed
    answer also the time to its first token."""
    group = _metrics(model=model, brand=brand_id or "none")
    group.add_metric(name="PromptTokens", unit=MetricUnit.Count, value=usage.prompt_tokens)
    group.add_metric(name="CompletionTokens", unit=MetricUnit.Count, value=usage.completion_tokens)
    group.add_metric(name="CostUSD", unit=MetricUnit.NoUnit, value=cost_usd)
    group.add_metric(name="ProviderLatency", unit=MetricUnit.Milliseconds, value=latency_ms)
    if first_token_ms is not None:
        group.add_metric(name="TimeToFirstToken", unit=MetricUnit.Milliseconds, value=first_token_ms)
    group.flush_metrics()


def record_error(code: str) -> None:
    """One error answered to a client, by its `error` code (the alarms watch some of them)."""
    group = _metrics(code=code)
    group.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
    group.flush_metrics()
