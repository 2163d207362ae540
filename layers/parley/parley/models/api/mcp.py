"""The JSON-RPC messages of Parley's MCP server (docs/mcp.md), as its reference documents them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class JsonRpcError(BaseModel):
    code: int
    message: str


class JsonRpcResponse(BaseModel):
    """A response: `result` (the method's, as MCP defines it), or `error`."""

    jsonrpc: Literal["2.0"] = "2.0"
    id: Any = None
    result: dict[str, Any] | None = None
    error: JsonRpcError | None = None
