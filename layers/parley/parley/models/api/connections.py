"""A user's own credentials for an assistant's MCP server (`"credentials": "per_user"`):
PUT/GET/DELETE /v1/me/connections (docs/tools.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from parley.models.api.tools import HeaderMap


class ConnectionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["authorization"], "properties": {"authorization": {"type": "string"}}},
                {"required": ["headers"], "properties": {"headers": {"type": "object"}}},
            ]
        },
    )

    authorization: str | None = Field(None, min_length=1, max_length=8192, description="A bearer token.")
    headers: HeaderMap | None = None
    brand_id: str | None = Field(
        None, min_length=1, max_length=100, description="The brand (default: the token's one brand)."
    )

    @model_validator(mode="after")
    def _some_credential(self) -> ConnectionIn:
        if self.authorization is None and self.headers is None:
            raise ValueError("a connection needs authorization or headers")
        return self


class Connection(BaseModel):
    """A connection as it is shown: which credentials are set, never what they are."""

    server_label: str
    brand_id: str
    authorization: Literal["set"] | None = None
    headers: dict[str, Literal["set"]] | None = None
    updated_at: str


class ConnectionEnvelope(BaseModel):
    connection: Connection


class ConnectionList(BaseModel):
    connections: list[Connection]
