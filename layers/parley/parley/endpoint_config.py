"""The shape of `OPENAI_COMPATIBLE_ENDPOINTS`: servers that speak OpenAI Chat Completions (vLLM,
Ollama, llama.cpp, LM Studio, TGI, gateways), each with the models it serves. Their models are
named `<endpoint name>/<model id>` everywhere Parley takes a model."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

ENDPOINT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
RESERVED_NAMES = frozenset({"bedrock", "assistant", "parley"})  # prefixes Parley's own ids use
SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:(secretsmanager:[^:]+:\d{12}:secret:.+|ssm:[^:]+:\d{12}:parameter/.+)$"
)


class EndpointModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    context_window: int = Field(ge=256, le=10_000_000)
    max_output: int = Field(ge=16, le=1_000_000)
    input_per_mtok: float = Field(0.0, ge=0)
    output_per_mtok: float = Field(0.0, ge=0)
    tools: bool = False  # the endpoint runs function tools for this model
    json_schema: bool = False  # the endpoint honours response_format json_schema for this model


class CompatibleEndpoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    base_url: str = Field(pattern=r"^https?://[^\s/]+(/\S*)?$")
    api_key: SecretStr | None = None
    api_key_secret_arn: str | None = Field(None, pattern=SECRET_ARN.pattern)
    models: tuple[EndpointModel, ...] = Field(min_length=1, max_length=200)

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not ENDPOINT_NAME.match(name) or name in RESERVED_NAMES:
            raise ValueError(
                f"endpoint name {name!r}: lower-case letters, digits and '-', at most 32, "
                f"not one of {sorted(RESERVED_NAMES)}"
            )
        return name

    @model_validator(mode="after")
    def _one_key_source(self) -> CompatibleEndpoint:
        if self.api_key is not None and self.api_key_secret_arn:
            raise ValueError(f"endpoint {self.name!r}: set api_key or api_key_secret_arn, not both")
        ids = [model.id for model in self.models]
        if len(ids) != len(set(ids)):
            raise ValueError(f"endpoint {self.name!r} lists a model id twice")
        return self


def parse_endpoints(value: Any) -> tuple[CompatibleEndpoint, ...]:
    """The endpoints of the setting's JSON (a list), each name used once."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    if not isinstance(value, (list, tuple)):
        raise ValueError("OPENAI_COMPATIBLE_ENDPOINTS is a JSON list of endpoints")
    endpoints = tuple(
        e if isinstance(e, CompatibleEndpoint) else CompatibleEndpoint.model_validate(e) for e in value
    )
    names = [endpoint.name for endpoint in endpoints]
    if len(names) != len(set(names)):
        raise ValueError("OPENAI_COMPATIBLE_ENDPOINTS names an endpoint twice")
    return endpoints
