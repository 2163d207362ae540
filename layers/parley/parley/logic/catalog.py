"""Prompt templates (versioned, per brand) and assistants (per brand): the configuration the RAG
chat reads. Managing them needs the `admin` scope."""

from __future__ import annotations

from parley.auth.principal import ADMIN, Principal
from parley.errors import AssistantNotFound, InvalidRequest, TemplateNotFound
from parley.ids import uuid7
from parley.models.api.rag import Assistant, AssistantIn, PromptTemplate, TemplateIn
from parley.models.domain import timestamp
from parley.models.filters import parse_filters
from parley.providers.registry import model_spec
from parley.rag.prompting import DEFAULT_TEMPLATE
from parley.store.catalog import CatalogStore


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


def create_assistant(principal: Principal, request: AssistantIn, *, store: CatalogStore) -> Assistant:
    principal.require(ADMIN)
    principal.require_brand(request.brand_id)
    if request.model is not None:
        model_spec(request.model)
    parse_filters(request.filters)  # a malformed pin is refused now, not at every chat
    if request.template_id is not None or request.template_version is not None:
        find_template(request.brand_id, request.template_id, request.template_version, store=store)
    assistant = Assistant(**request.model_dump(), assistant_id=str(uuid7()), created_at=timestamp())
    store.put_assistant(assistant)
    return assistant


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
