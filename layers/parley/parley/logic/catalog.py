"""Prompt templates (versioned, per brand) and assistants (per brand): the configuration the RAG
chat reads. Managing them needs the `admin` scope."""

from __future__ import annotations

from dataclasses import dataclass

from parley.auth.principal import ADMIN, Principal
from parley.config import Settings
from parley.egress import EgressPolicy
from parley.errors import AssistantNotFound, InvalidRequest, TemplateNotFound
from parley.ids import uuid7
from parley.logic.connections import connected
from parley.models.api.rag import Assistant, AssistantIn, PromptTemplate, TemplateIn
from parley.models.api.tools import McpTool, mcp_tools
from parley.models.domain import timestamp
from parley.models.filters import parse_filters
from parley.providers.registry import model_spec
from parley.rag.prompting import DEFAULT_TEMPLATE
from parley.rag.rerank import RERANK_MODELS, RerankChoice, rerank_region
from parley.sealing import Sealer, open_json, seal_json
from parley.store.catalog import CatalogStore
from parley.store.connections import ConnectionStore


def create_template_version(
    principal: Principal, request: TemplateIn, *, store: CatalogStore
) -> PromptTemplate:
    principal.require(ADMIN)
    principal.require_brand(request.brand_id)
    if "{{context}}" not in request.body:
        raise InvalidRequest("body must contain {{context}}, where the numbered sources go.")
    template_id = request.template_id or str(uuid7())
    if template_id == DEFAULT_TEMPLATE.template_id:
        raise InvalidRequest(f"'{template_id}' is the built-in template's id; choose another.")
    draft = PromptTemplate(
        template_id=template_id,
        version="0",
        brand_id=request.brand_id,
        body=request.body,
        description=request.description,
        created_at=timestamp(),
    )
    return store.add_template_version(request.brand_id, draft)


def find_template(
    brand_id: str, template_id: str | None, version: str | None, *, store: CatalogStore
) -> PromptTemplate:
    """The brand's template (a version, or the latest); the built-in one when no id is given."""
    if template_id is None or template_id == DEFAULT_TEMPLATE.template_id:
        if version not in (None, DEFAULT_TEMPLATE.version):
            raise TemplateNotFound(DEFAULT_TEMPLATE.template_id, version)
        return DEFAULT_TEMPLATE
    if version is not None and not version.isdigit():
        raise InvalidRequest(f"version must be a positive whole number, got '{version}'.")
    found = store.get_template(brand_id, template_id, int(version) if version else None)
    if found is None:
        raise TemplateNotFound(template_id, version)
    return found


def get_template(
    principal: Principal,
    brand_id: str,
    template_id: str,
    version: str | None,
    *,
    store: CatalogStore,
) -> PromptTemplate:
    principal.require(ADMIN)
    principal.require_brand(brand_id)
    return find_template(brand_id, template_id, version, store=store)


SET = "set"  # what GET shows of a credential


def create_assistant(
    principal: Principal,
    request: AssistantIn,
    *,
    store: CatalogStore,
    config: Settings,
    sealer: Sealer | None = None,
) -> Assistant:
    """A brand's assistant. Its MCP servers are checked as a request's are; their credentials are
    sealed (parley.sealing) and the assistant read back shows them as "set"."""
    principal.require(ADMIN)
    principal.require_brand(request.brand_id)
    servers = check_assistant_settings(request, config, store)
    assistant_id = str(uuid7())
    sealed = sealed_credentials(servers, request.brand_id, assistant_id, sealer)
    shown = [shown_server(server) for server in servers] or None
    assistant = Assistant(
        **request.model_dump(exclude={"tools"}),
        tools=shown,
        assistant_id=assistant_id,
        created_at=timestamp(),
    )
    store.put_assistant(assistant, sealed)
    return assistant


def sealed_credentials(
    servers: list[McpTool], brand_id: str, assistant_id: str, sealer: Sealer | None
) -> dict[str, str]:
    """The servers' credentials, each server's sealed apart and bound to it, by label."""
    sealed: dict[str, str] = {}
    for server in servers:
        if server.headers or server.authorization:
            if sealer is None:
                raise InvalidRequest(
                    "This deployment keeps no credentials (no key to seal them: SECRETS_KMS_KEY_ID); "
                    f"'{server.server_label}' cannot carry headers or authorization.",
                    code="credentials_unavailable",
                )
            secret = {"headers": server.headers, "authorization": server.authorization}
            context = credentials_context(brand_id, assistant_id, server.server_label)
            sealed[server.server_label] = seal_json(sealer, secret, context)
    return sealed


def check_assistant_settings(request: AssistantIn, config: Settings, store: CatalogStore) -> list[McpTool]:
    """What an assistant names, checked before it is written: its servers (returned), model,
    pinned filters and template."""
    servers = checked_assistant_servers(request.tools, config)
    if request.model is not None:
        model_spec(request.model, config)
    parse_filters(request.filters)  # a malformed pin is refused now, not at every chat
    if request.rerank is not None:
        check_rerank_region(request.rerank.model, config)
    if request.template_id is not None or request.template_version is not None:
        find_template(request.brand_id, request.template_id, request.template_version, store=store)
    return servers


def rerank_choice(assistant: Assistant | None) -> RerankChoice | None:
    """The assistant's own reranking, if it names one (else the deployment's applies)."""
    if assistant is None or assistant.rerank is None:
        return None
    return RerankChoice(assistant.rerank.model, assistant.rerank.top_n)


def check_rerank_region(model: str, config: Settings) -> None:
    """A rerank model Bedrock serves in the deployment's rerank region; a 400 naming where it is."""
    region = rerank_region(config)
    served = RERANK_MODELS[model].regions
    if region not in served:
        raise InvalidRequest(
            f"{model} is not served in {region}, where this deployment reranks (RAG_RERANK_REGION); "
            f"it is in {', '.join(sorted(served))}.",
            param="rerank.model",
        )


def checked_assistant_servers(tools: list[McpTool] | None, config: Settings) -> list[McpTool]:
    """An assistant's MCP servers: labels unique, within MCP_MAX_SERVERS, URLs public https."""
    servers = mcp_tools(list(tools or []))
    if len(servers) > config.mcp_max_servers:
        raise InvalidRequest(
            f"{len(servers)} MCP servers; at most {config.mcp_max_servers} (MCP_MAX_SERVERS).",
            code="too_many_servers",
        )
    policy = EgressPolicy.of(config.mcp_allow_hosts)
    for position, server in enumerate(servers):
        policy.check_url(server.server_url, f"tools[{position}].server_url")
        if server.credentials == "per_user" and (server.headers or server.authorization):
            raise InvalidRequest(
                f"'{server.server_label}' takes each user's own credentials (credentials per_user): "
                "leave headers and authorization out; users connect with PUT /v1/me/connections/{label}.",
                code="per_user_credentials",
            )
    return servers


def shown_server(server: McpTool) -> McpTool:
    """The server as GET shows it: its credentials replaced by "set"."""
    return server.model_copy(
        update={
            "headers": {name: SET for name in server.headers} if server.headers else None,
            "authorization": SET if server.authorization else None,
        }
    )


def credentials_context(brand_id: str, assistant_id: str, server_label: str) -> dict[str, str]:
    """What sealed credentials are bound to: they open for this brand's assistant's server only."""
    return {"brand_id": brand_id, "assistant_id": assistant_id, "server_label": server_label}


@dataclass(frozen=True)
class ServersOf:
    """An assistant's MCP servers ready for one user's answer, and the per-user ones that user
    has not connected (their tools are not offered: the answer says so)."""

    servers: list[McpTool]
    unconnected: list[str]


def assistant_servers(
    assistant: Assistant,
    *,
    store: CatalogStore,
    sealer: Sealer | None,
    user_id: str,
    connections: ConnectionStore | None = None,
) -> ServersOf:
    """The assistant's MCP servers with their credentials opened, for one answer to `user_id`:
    the brand's shared ones, and for a per-user server that user's own connection."""
    if not assistant.tools:
        return ServersOf([], [])
    needs = [s for s in assistant.tools if s.headers or s.authorization]
    sealed = store.sealed_credentials(assistant.assistant_id) if needs else {}
    servers: list[McpTool] = []
    unconnected: list[str] = []
    for server in assistant.tools:
        if server.credentials == "per_user":
            mine = (
                connected(server, assistant.brand_id, user_id, store=connections, sealer=sealer)
                if connections is not None
                else None
            )
            if mine is None:
                unconnected.append(server.server_label)
            else:
                servers.append(mine)
        elif server.headers or server.authorization:
            if sealer is None or server.server_label not in sealed:
                raise InvalidRequest(
                    f"The credentials of '{server.server_label}' cannot be opened on this deployment.",
                    code="credentials_unavailable",
                )
            context = credentials_context(assistant.brand_id, assistant.assistant_id, server.server_label)
            secret = open_json(sealer, sealed[server.server_label], context)
            servers.append(server.model_copy(update=secret))
        else:
            servers.append(server)
    return ServersOf(servers, unconnected)


def find_assistant(
    principal: Principal, assistant_id: str, brand_id: str | None = None, *, store: CatalogStore
) -> Assistant:
    """The assistant if it belongs to one of the caller's brands (and to `brand_id`, if given);
    any other reads as missing."""
    assistant = store.get_assistant(assistant_id)
    if (
        assistant is None
        or assistant.brand_id not in principal.brands
        or brand_id not in (None, assistant.brand_id)
    ):
        raise AssistantNotFound(assistant_id)
    return assistant


def get_assistant(principal: Principal, assistant_id: str, *, store: CatalogStore) -> Assistant:
    principal.require(ADMIN)
    return find_assistant(principal, assistant_id, store=store)
