"""Amazon Bedrock Guardrails applied to any provider's turn with `ApplyGuardrail`: the user's
input before the model is called, the model's output after (or, streamed, window by window).
A guardrail blocks (its configured message replaces the text) or anonymizes (PII masked, e.g.
`{EMAIL}`); either way its response's `action` is `GUARDRAIL_INTERVENED`, and a blocking policy's
assessment says `BLOCKED`. An outage follows `GUARDRAIL_ON_ERROR`: refuse the turn, or let it
through unchecked (logged), never a hang."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from parley.errors import GuardrailUnavailable
from parley.observability import logger

Source = Literal["INPUT", "OUTPUT"]

# USD per 1,000 text units, as Bedrock publishes them; word filters and regular expressions are free.
PRICE_PER_THOUSAND_UNITS = {
    "topicPolicyUnits": 0.15,
    "contentPolicyUnits": 0.15,
    "sensitiveInformationPolicyUnits": 0.10,
    "contextualGroundingPolicyUnits": 0.10,
    "wordPolicyUnits": 0.0,
    "sensitiveInformationPolicyFreeUnits": 0.0,
}


@dataclass(frozen=True)
class Verdict:
    """What the guardrail made of a text: `text` is what goes on (the input or output itself, its
    masked form, or the guardrail's blocked message), with the units and cost of the check."""

    text: str
    blocked: bool = False
    masked: bool = False
    text_units: int = 0
    cost_usd: float = 0.0
    unchecked: bool = False  # the guardrail failed and GUARDRAIL_ON_ERROR=allow let it through


class Guardrail:
    def __init__(
        self, client: Any, identifier: str, version: str, on_error: Literal["block", "allow"]
    ) -> None:
        self.client = client
        self.identifier = identifier
        self.version = version
        self.on_error = on_error

    def check(self, source: Source, text: str) -> Verdict:
        if not text.strip():
            return Verdict(text)
        try:
            response = self.client.apply_guardrail(
                guardrailIdentifier=self.identifier,
                guardrailVersion=self.version,
                source=source,
                content=[{"text": {"text": text}}],
            )
        except Exception as error:  # any failure of the call is an outage here
            return self._failed(source, text, error)
        units, cost = usage_of(response.get("usage") or {})
        if response.get("action") != "GUARDRAIL_INTERVENED":
            return Verdict(text, text_units=units, cost_usd=cost)
        outputs = [o.get("text", "") for o in response.get("outputs") or []]
        replaced = "".join(outputs) or text
        if _says_blocked(response.get("assessments") or []):
            return Verdict(replaced, blocked=True, text_units=units, cost_usd=cost)
        return Verdict(replaced, masked=replaced != text, text_units=units, cost_usd=cost)

    def _failed(self, source: Source, text: str, error: Exception) -> Verdict:
        logger.warning(
            "guardrail call failed",
            extra={"source": source, "error_type": type(error).__name__, "on_error": self.on_error},
        )
        if self.on_error == "allow":
            return Verdict(text, unchecked=True)
        raise GuardrailUnavailable(
            "The guardrail could not check this turn, and GUARDRAIL_ON_ERROR is block: nothing was "
            "stored, so the request can be retried."
        ) from error


def guardrail_client(region: str | None, timeout: float) -> Any:
    """The Bedrock Runtime client guardrails are applied with: short timeouts, one retry."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=min(2.0, timeout),
        read_timeout=timeout,
        retries={"mode": "standard", "max_attempts": 2},  # one retry, within the deadline
    )
    return boto3.client("bedrock-runtime", region_name=region, config=config)


def usage_of(usage: dict[str, Any]) -> tuple[int, float]:
    """The text units a check used (every policy's) and their list price."""
    units = sum(int(usage.get(name) or 0) for name in PRICE_PER_THOUSAND_UNITS)
    cost = sum(int(usage.get(name) or 0) * price / 1000 for name, price in PRICE_PER_THOUSAND_UNITS.items())
    return units, round(cost, 8)


def _says_blocked(assessments: list[Any]) -> bool:
    """Whether any policy of the assessments blocked (anonymizing alone does not)."""
    pending: list[Any] = list(assessments)
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if item.get("action") == "BLOCKED" and item.get("detected", True):
                return True
            pending += list(item.values())
        elif isinstance(item, list):
            pending += item
    return False
