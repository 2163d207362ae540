"""A user's own connections to an assistant's MCP servers (`"credentials": "per_user"`): set,
listed and removed by the user, each brand's apart; the credentials sealed, bound to the brand,
the user and the server label, and never shown again (docs/tools.md)."""

from __future__ import annotations

import re

from parley.auth.principal import AI_CHAT, Principal
from parley.errors import InvalidRequest
from parley.models.api.connections import Connection, ConnectionIn
from parley.models.api.tools import TOOL_NAME, McpTool
from parley.models.domain import timestamp
from parley.sealing import Sealer, open_json, seal_json
from parley.store.connections import ConnectionStore

SET = "set"


def connection_brand(principal: Principal, brand_id: str | None) -> str:
    """The brand a connection is in: the one named (granted by the token), else the token's one."""
    if brand_id is not None:
        principal.require_brand(brand_id)
        return brand_id
    if len(principal.brands) == 1:
        return next(iter(principal.brands))
    raise InvalidRequest(
        f"The token grants {len(principal.brands)} brands: name the connection's with brand_id.",
        code="brand_required",
    )


def put_connection(
    principal: Principal,
    server_label: str,
    request: ConnectionIn,
    *,
    store: ConnectionStore,
    sealer: Sealer | None,
) -> Connection:
    principal.require(AI_CHAT)
    _check_label(server_label)
    brand_id = connection_brand(principal, request.brand_id)
    if sealer is None:
        raise InvalidRequest(
            "This deployment keeps no credentials (no key to seal them: SECRETS_KMS_KEY_ID).",
            code="credentials_unavailable",
        )
    secret = {"headers": request.headers, "authorization": request.authorization}
    sealed = seal_json(sealer, secret, _context(brand_id, principal.user_id, server_label))
    connection = Connection(
        server_label=server_label,
        brand_id=brand_id,
        authorization=SET if request.authorization else None,
        headers={name: SET for name in request.headers} if request.headers else None,
        updated_at=timestamp(),
    )
    store.put(brand_id, principal.user_id, connection, sealed)
    return connection


def list_connections(
    principal: Principal, brand_id: str | None, *, store: ConnectionStore
) -> list[Connection]:
    principal.require(AI_CHAT)
    return store.list(connection_brand(principal, brand_id), principal.user_id)


def delete_connection(
    principal: Principal, server_label: str, brand_id: str | None, *, store: ConnectionStore
) -> None:
    """Gone at once; removing one that is not there is no error (the state asked for holds)."""
    principal.require(AI_CHAT)
    _check_label(server_label)
    store.delete(connection_brand(principal, brand_id), principal.user_id, server_label)


def connected(
    server: McpTool, brand_id: str, user_id: str, *, store: ConnectionStore, sealer: Sealer | None
) -> McpTool | None:
    """A per-user server with this user's own credentials; None when the user has not connected."""
    sealed = store.sealed(brand_id, user_id, server.server_label)
    if sealed is None or sealer is None:
        return None
    secret = open_json(sealer, sealed, _context(brand_id, user_id, server.server_label))
    return server.model_copy(update=secret)


def _context(brand_id: str, user_id: str, server_label: str) -> dict[str, str]:
    return {"brand_id": brand_id, "user_id": user_id, "server_label": server_label}


def _check_label(server_label: str) -> None:

    if not re.fullmatch(TOOL_NAME, server_label):
        raise InvalidRequest(
            "server_label must be 1-64 letters, digits, `_` or `-`.", code="invalid_server_label"
        )
