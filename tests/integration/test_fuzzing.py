"""Schemathesis against openapi.json through the local gateway with a valid token: every
operation, many generated requests each, and not one 5xx or a response outside its documented
schema. Each operation is its own test and counts its own requests, so any one runs alone.

The cases are the same whatever ran before: Hypothesis draws some literals from the constants of
the modules loaded at that moment, which depends on the test order, so the fuzz runs without them
(`no_literals_from_loaded_modules`); with `derandomize` each operation then gets the same cases in
any order, alone or with the rest. `FUZZ_SEED=<n>` explores other cases by hand; a failure prints
the command that replays it."""

from __future__ import annotations

import os
import shlex
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

from local.openapi import DOCUMENT
from local.token import mint
from parley.edge.request_guard import REFUSAL_CODE
from tests.conftest import LocalStack
from tests.doubles.fake_providers import ProviderServer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_literals_from_loaded_modules")]

schema = schemathesis.openapi.from_path(DOCUMENT)
EXAMPLES_PER_OPERATION = 110
# 400s that no JSON Schema can rule out: what depends on stored state, as a 404 does (a tool
# result naming a call no assistant message made; a tool_choice with no tools declared here or on
# the conversation), and what depends on the content beyond its shape (tool names repeated, the
# tools' total size, a tool_choice naming an undeclared tool, bytes that are no readable file).
STATE_DEPENDENT_400 = {
    "unknown_tool_call",
    "no_tools",
    "duplicate_tool_names",
    "tools_too_large",
    "unknown_tool",
    "unreadable_file",
    "brand_required",  # the OpenAI-compatible routes, with a token of several brands and no X-Parley-Brand
    "unsupported_parameter",  # a value of a parameter only its default of works here (n, logprobs, ...)
    "invalid_export",  # an import's ids: repeated, a parent_id not in the export, a loop of parents
    # MCP servers: where a URL's host resolves, approval (default "always") where no answer can
    # wait for it, labels repeated, too many servers or tools, an mcp tool kept with a conversation
    "server_not_allowed",
    "approval_unavailable",
    "duplicate_server_labels",
    "too_many_servers",
    "too_many_tools",
    "mcp_tool_not_stored",
    # an approval: it must answer requests of the message it follows, on a user message asking
    # for an answer, each once, with a request's own server sent again
    "unknown_approval_request",
    "approval_response_misplaced",
    "duplicate_approval_response",
    "approval_server_missing",
    # Anthropic's Messages: a content block of a kind the schema names so that the 400 can name it
    "unsupported_content",
    # an assistant changed: its brand stays, its kept credentials match what is stored
    "brand_fixed",
    "credentials_not_kept",
}
# ... and the request guard's refusals: limits no JSON Schema can state (nesting, integer digits,
# surrogates), documented on every operation's 400 under this code of their own.
ACCEPTED_400 = {*STATE_DEPENDENT_400, REFUSAL_CODE}
OPERATIONS = [result.ok() for result in schema.get_all_operations()]
FUZZ_SEED = os.environ.get("FUZZ_SEED")


def error_code(response: Any) -> str | None:
    """The error code of `{error, message}`, of OpenAI's `{error: {code}}`, or of Anthropic's
    `{type: error, error: {type, message}}`, whose message Parley's code leads."""
    if response.status_code < 400:
        return None
    body = response.json()
    error = body.get("error")
    if body.get("type") == "error" and isinstance(error, dict):
        return str(error.get("message", "")).split(":", 1)[0]
    return error.get("code") if isinstance(error, dict) else error


def replay_command(request: pytest.FixtureRequest) -> str:
    seed = f"FUZZ_SEED={FUZZ_SEED} " if FUZZ_SEED else ""
    return f"{seed}.venv/bin/python -m pytest {shlex.quote(request.node.nodeid)} -p no:randomly"


def seeded(test: object) -> object:
    """With FUZZ_SEED, that seed's cases instead of the fixed ones."""
    return hypothesis.seed(int(FUZZ_SEED))(test) if FUZZ_SEED else test


@pytest.fixture(scope="module")
def token() -> str:
    return mint("fuzzer", ["acme", "globex"])


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method.upper()} {op.path}")
def test_no_request_gets_a_5xx_or_an_undocumented_response(
    operation: schemathesis.APIOperation,
    local_stack: LocalStack,
    token: str,
    providers: ProviderServer,
    request: pytest.FixtureRequest,
) -> None:
    sent = guarded = 0

    @seeded
    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=FUZZ_SEED is None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        nonlocal sent, guarded
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(base_url=local_stack.url, headers=headers)
        sent += 1
        code = error_code(response)
        guarded += response.status_code == 400 and code == REFUSAL_CODE
        # API Gateway answers a method a resource does not declare with its MISSING_AUTHENTICATION_TOKEN
        # response (templated to Parley's 404 `route_not_found`), not a 405; no setting changes that.
        excluded = [unsupported_method]
        if response.status_code == 400 and code in ACCEPTED_400:
            excluded.append(positive_data_acceptance)
        case.validate_response(response, excluded_checks=excluded, headers=headers)
        assert response.status_code < 500, response.text

    try:
        fuzz()
    except BaseException as failure:
        failure.add_note(f"Replay this operation's cases: {replay_command(request)}")
        raise

    # The guard's refusals stay the exception: the cases reach the route's own validation and logic.
    assert guarded < sent / 2, f"{guarded} of {sent} cases were refused by the request guard"
