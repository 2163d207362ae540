"""openapi.json is generated from the code (`make openapi`) and committed; it must not drift, it
covers every route of template.yaml, and the local gateway serves it with Swagger UI at /docs."""

from __future__ import annotations

import json

import httpx
import pytest

from local.openapi import ANTHROPIC_ERROR_REF, DOCUMENT, ERROR_REF, openai_error_schema, render
from local.reference import ANTHROPIC_PREFIXES, OPENAI_PREFIXES
from local.template import load
from parley.edge.request_guard import MAX_DEPTH, REFUSAL_CODE


def test_the_committed_document_matches_the_code() -> None:
    assert DOCUMENT.read_text() == render(), "openapi.json is stale: run `make openapi` and commit it"


def test_every_api_route_of_the_template_is_documented() -> None:
    documented = {
        (method.upper(), path)
        for path, item in json.loads(DOCUMENT.read_text())["paths"].items()
        for method in item
    }
    routes = {(r.method, r.resource) for r in load().routes if r.method != "OPTIONS"}

    assert documented == routes


def test_every_error_response_is_the_one_error_shape_of_its_api() -> None:
    """`{error, message}` everywhere; on the OpenAI-compatible routes OpenAI's `{error: {...}}`,
    on the Anthropic-compatible ones Anthropic's `{type: error, error: {...}}`, but where API
    Gateway answers first (a 401 always, some statuses possibly)."""
    document = json.loads(DOCUMENT.read_text())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    expected = (
                        openai_error_schema(status)
                        if path.startswith(OPENAI_PREFIXES)
                        else openai_error_schema(status, ANTHROPIC_ERROR_REF)
                        if path.startswith(ANTHROPIC_PREFIXES)
                        else ERROR_REF
                    )
                    assert schema == expected, (method, path, status)


def test_every_operation_documents_the_request_guard_refusal() -> None:
    """A schema-valid request can still break a limit JSON Schema cannot state; every operation's
    400 names the code it then gets, with the limits."""
    document = json.loads(DOCUMENT.read_text())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            description = operation["responses"]["400"]["description"]
            assert REFUSAL_CODE in description and f"{MAX_DEPTH} levels" in description, (method, path)


@pytest.mark.integration
def test_the_local_gateway_serves_swagger_ui_and_the_document(api: httpx.Client) -> None:
    page = api.get("/docs")
    bundle = api.get("/docs/swagger-ui-bundle.js")
    document = api.get("/openapi.json")
    escape = api.get("/docs/../package.json")

    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert document.json() == json.loads(DOCUMENT.read_text())
    assert escape.status_code == 404


def test_every_operation_is_grouped_summarised_and_described() -> None:
    document = json.loads(DOCUMENT.read_text())
    areas = {tag["name"] for tag in document["tags"]}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert len(operation["tags"]) == 1 and operation["tags"][0] in areas, (method, path)
            assert operation["summary"] and operation["summary"] != f"{method.upper()} {path}", (method, path)
            assert len(operation["description"]) > len(operation["summary"]), (method, path)
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), (method, path, parameter["name"])


def test_every_example_is_valid_against_its_schema() -> None:
    import jsonschema

    document = json.loads(DOCUMENT.read_text())
    checked = 0
    for item in document["paths"].values():
        for operation in item.values():
            bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
            for body in bodies:
                content = body.get("content", {}).get("application/json", {})
                if "example" in content:
                    schema = {**content["schema"], "components": document["components"]}
                    jsonschema.validate(content["example"], schema, cls=jsonschema.Draft202012Validator)
                    checked += 1
    assert checked > 100  # requests, the main responses, and an error body per status and route
