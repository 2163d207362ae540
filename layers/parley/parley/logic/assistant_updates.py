"""A brand's assistant changed in place (`PUT /v1/ai/assistants/{id}`, scope admin): the whole
configuration again, as it was created. An MCP server's stored credentials are kept by sending
them back as GET shows them ("set"), to the same server URL; new values replace them; a server
left out takes its credentials with it (docs/tools.md)."""

from __future__ import annotations

from parley.auth.principal import ADMIN, Principal
from parley.config import Settings
from parley.errors import AssistantNotFound, InvalidRequest
from parley.logic.catalog import (
    SET,
    check_assistant_settings,
    find_assistant,
    sealed_credentials,
    shown_server,
)
from parley.models.api.rag import Assistant, AssistantIn
from parley.models.api.tools import McpTool
from parley.sealing import Sealer
from parley.store.catalog import CatalogStore


def update_assistant(
    principal: Principal,
    assistant_id: str,
    request: AssistantIn,
    *,
    store: CatalogStore,
    config: Settings,
    sealer: Sealer | None = None,
) -> Assistant:
    """The assistant as `request` says, in its brand still (another brand's reads as missing)."""
    principal.require(ADMIN)
    current = find_assistant(principal, assistant_id, store=store)
    if request.brand_id != current.brand_id:
        raise InvalidRequest(
            f"An assistant stays in its brand ('{current.brand_id}'); create one in '{request.brand_id}'.",
            code="brand_fixed",
            param="brand_id",
        )
    servers = check_assistant_settings(request, config, store)
    before = {server.server_label: server for server in current.tools or []}
    stored = store.sealed_credentials(assistant_id)
    kept = {
        server.server_label
        for server in servers
        if _keeps_credentials(server, before.get(server.server_label))
    }
    sealed = sealed_credentials(
        [server for server in servers if server.server_label not in kept],
        current.brand_id,
        assistant_id,
        sealer,
    )
    sealed |= {label: stored[label] for label in kept if label in stored}
    assistant = Assistant(
        **request.model_dump(exclude={"tools"}),
        tools=[shown_server(server) for server in servers] or None,
        assistant_id=assistant_id,
        created_at=current.created_at,
    )
    if not store.put_assistant(assistant, sealed, replace=True):
        raise AssistantNotFound(assistant_id)  # deleted while it was being changed
    return assistant


def _keeps_credentials(server: McpTool, before: McpTool | None) -> bool:
    """Whether the server sends its credentials back as "set": then all of them, exactly the ones
    stored, for the same URL (kept credentials never go to another server). A 400 otherwise."""
    given = [server.authorization, *(server.headers or {}).values()]
    if SET not in given:
        return False
    label = server.server_label
    if before is None or _shape(server) != _shape(before) or not all(v == SET for v in given if v):
        raise InvalidRequest(
            f"'{label}' keeps its stored credentials only as GET shows them: every one 'set', the "
            "same headers and authorization as stored; otherwise send new values for all of them.",
            code="credentials_not_kept",
            param="tools",
        )
    if server.server_url != before.server_url:
        raise InvalidRequest(
            f"'{label}' has a new server_url: its stored credentials never go to another server; "
            "send them again with it.",
            code="credentials_not_kept",
            param="tools",
        )
    return True


def _shape(server: McpTool) -> tuple[list[str], bool]:
    """Which credentials a server carries: its header names, and whether it has authorization."""
    return sorted(server.headers or {}), server.authorization is not None
