"""Bedrock's ApplyGuardrail (`POST /guardrail/{guardrailIdentifier}/version/{guardrailVersion}/apply`)
as the local Bedrock server answers it, shaped by the Bedrock Runtime API reference
(ApplyGuardrail, GuardrailAssessment, GuardrailUsage): it refuses an identifier or version outside
the documented patterns and a request without `source` or text content (400 ValidationException),
a guardrail that does not exist (404 ResourceNotFoundException), and plays an outage (503
ServiceUnavailableException) or a slow answer. A guardrail here has a word filter (BLOCKED), an
e-mail PII filter (ANONYMIZED as `{EMAIL}`) and a content filter; each policy bills one text unit
per 1,000 characters, as Bedrock does."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

ROUTE = re.compile(r"^/guardrail/(?P<identifier>[^/]*)/version/(?P<version>[^/]*)/apply$")
IDENTIFIER = re.compile(
    r"^(|([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+))$"
)
VERSION = re.compile(r"^(|([1-9][0-9]{0,7})|(DRAFT))$")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
BLOCKED_INPUT = "Sorry, this assistant cannot discuss that."
BLOCKED_OUTPUT = "Sorry, the answer was withheld by the guardrail."


@dataclass
class GuardrailPolicy:
    """One guardrail's configuration, and the faults the next calls play."""

    blocked_words: set[str] = field(default_factory=lambda: {"dynamite"})
    # Words its filter blocks in the model's output only (a policy's input and output are set apart).
    blocked_output_words: set[str] = field(default_factory=lambda: {"banana"})
    outage: bool = False  # every call answers 503
    delay: float = 0.0  # seconds before each answer
    calls: list[dict[str, Any]] = field(default_factory=list)


def apply_guardrail(
    guardrails: dict[str, GuardrailPolicy], identifier: str, version: str, body: dict[str, Any]
) -> tuple[int, str | None, dict[str, Any]]:
    """(status, error type or None, body) of one ApplyGuardrail call."""
    if not IDENTIFIER.match(identifier) or not VERSION.match(version):
        return (
            400,
            "ValidationException",
            {"message": "1 validation error detected: guardrailIdentifier or guardrailVersion"},
        )
    source, content = body.get("source"), body.get("content")
    if source not in ("INPUT", "OUTPUT"):
        return (
            400,
            "ValidationException",
            {"message": "Value at 'source' must satisfy enum value set: [INPUT, OUTPUT]"},
        )
    texts = [block["text"]["text"] for block in content or [] if isinstance(block.get("text"), dict)]
    if not content or len(texts) != len(content) or not all(isinstance(t, str) for t in texts):
        return (
            400,
            "ValidationException",
            {"message": "The content field is required and must hold text blocks."},
        )
    policy = guardrails.get(identifier.rsplit("/", 1)[-1])
    if policy is None:
        return (
            404,
            "ResourceNotFoundException",
            {"message": "The guardrail identifier or version provided in the request does not exist."},
        )
    policy.calls.append({"version": version, **body})
    if policy.delay:
        time.sleep(policy.delay)
    if policy.outage:
        return 503, "ServiceUnavailableException", {"message": "Service Unavailable"}
    return 200, None, _assessed(policy, source, "".join(texts))


def _assessed(policy: GuardrailPolicy, source: str, text: str) -> dict[str, Any]:
    units = math.ceil(len(text) / 1000)
    usage = {
        "topicPolicyUnits": 0,
        "contentPolicyUnits": units,
        "wordPolicyUnits": units,
        "sensitiveInformationPolicyUnits": units,
        "sensitiveInformationPolicyFreeUnits": 0,
        "contextualGroundingPolicyUnits": 0,
    }
    listed = policy.blocked_words | (policy.blocked_output_words if source == "OUTPUT" else set())
    words = [w for w in sorted(listed) if w in text.lower()]
    emails = EMAIL.findall(text)
    assessment: dict[str, Any] = {}
    if words:
        assessment["wordPolicy"] = {
            "customWords": [{"match": w, "action": "BLOCKED", "detected": True} for w in words]
        }
    if emails:
        assessment["sensitiveInformationPolicy"] = {
            "piiEntities": [
                {"match": e, "type": "EMAIL", "action": "ANONYMIZED", "detected": True} for e in emails
            ]
        }
    coverage = {"textCharacters": {"guarded": len(text), "total": len(text)}}
    if not assessment:
        return {
            "usage": usage,
            "action": "NONE",
            "outputs": [],
            "assessments": [{}],
            "guardrailCoverage": coverage,
        }
    blocked = BLOCKED_INPUT if source == "INPUT" else BLOCKED_OUTPUT
    output = blocked if words else EMAIL.sub("{EMAIL}", text)
    return {
        "usage": usage,
        "action": "GUARDRAIL_INTERVENED",
        "actionReason": "Guardrail blocked." if words else "Guardrail masked.",
        "outputs": [{"text": output}],
        "assessments": [assessment],
        "guardrailCoverage": coverage,
    }
