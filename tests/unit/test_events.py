"""Every function answers its events/*.json file, as `sam local invoke -e` would feed it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.events import EVENTS_DIR, USER
from local.lambda_runtime import LambdaContext, load_handler
from local.settings import LOCAL_SECRET
from local.template import ROOT, Route, load
from tests.doubles.seeding import seed_events_data
from tests.unit.conftest import TABLE


def _by_folder() -> dict[str, Any]:
    """Each function folder's function; a folder two functions share (the Responses API and its
    background worker) is its routed function's."""
    routed = {route.function for route in load().routes}
    folders: dict[str, Any] = {}
    for logical_id, spec in load().functions.items():
        if logical_id in routed or spec.code_dir.name not in folders:
            folders[spec.code_dir.name] = spec
    return folders


FUNCTIONS = _by_folder()
OPENAPI = json.loads((ROOT / "openapi.json").read_text())


def success_status(route: Route) -> int:
    """The route's documented 2xx status (openapi.json), the first where it documents several
    (POST /mcp: 200 for a request, 202 for a notification); a CORS preflight answers 204."""
    if route.method == "OPTIONS":
        return 204
    responses = OPENAPI["paths"][route.resource][route.method.lower()]["responses"]
    return min(int(code) for code in responses if code.startswith("2"))


# Every function behind an API route, from template.yaml: none is left out by hand.
EXPECTED_STATUS = {
    load().functions[route.function].code_dir.name: success_status(route) for route in load().routes
}


def test_every_function_has_an_event_file() -> None:
    assert {path.stem for path in EVENTS_DIR.glob("*.json")} == set(FUNCTIONS)


@pytest.fixture
def seeded(dynamodb: Any, environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The environment each loaded function makes its wiring from; the vector store is a file, so
    the seeded chunks are the ones each function opens."""
    environment.setenv("JWT_HS256_SECRET", LOCAL_SECRET)
    environment.setenv("CORS_ALLOWED_ORIGINS", "https://app.example.com")
    environment.setenv("RAG_LOCAL_PATH", str(tmp_path / "vectors.sqlite3"))
    environment.setenv("LOCAL_SECRETS_KEY_FILE", str(tmp_path / "secrets.key"))  # me_connections_put seals
    seed_events_data(dynamodb, TABLE)
    # The files bucket with one synced object, and the files queue (ai_sync queues its check).
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="parley-unit-files")
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket="parley-unit-files", Key="sync/acme/hr/handbook.md", Body=b"# Handbook"
    )
    queue = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="parley-unit-files")
    environment.setenv("FILES_QUEUE_URL", queue["QueueUrl"])


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("name", sorted(EXPECTED_STATUS))
def test_the_function_answers_its_event(name: str) -> None:
    spec = FUNCTIONS[name]
    event = json.loads((EVENTS_DIR / f"{name}.json").read_text())

    response = load_handler(spec)(event, LambdaContext(spec.logical_id, spec.timeout))

    assert response["statusCode"] == EXPECTED_STATUS[name], response["body"]
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    headers |= {k.lower(): v[0] for k, v in (response.get("multiValueHeaders") or {}).items() if v}
    content_type = headers.get("content-type", "")
    if response["statusCode"] != 204 and content_type.startswith("application/json"):
        assert isinstance(json.loads(response["body"]), dict)
    elif response["statusCode"] != 204:  # the Markdown export
        assert content_type.startswith("text/markdown") and response["body"].startswith("# ")


@pytest.mark.usefixtures("seeded")
def test_the_authorizer_allows_its_event_with_the_callers_context() -> None:
    spec = FUNCTIONS["authorizer"]
    event = json.loads((EVENTS_DIR / "authorizer.json").read_text())

    result = load_handler(spec)(event, LambdaContext(spec.logical_id, spec.timeout))

    assert result["principalId"] == USER.user_id
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert result["context"] == USER.to_context()


@pytest.mark.usefixtures("seeded")
def test_the_authorizer_refuses_its_event_with_a_tampered_token() -> None:
    spec = FUNCTIONS["authorizer"]
    event = json.loads((EVENTS_DIR / "authorizer.json").read_text())
    event["headers"]["Authorization"] = event["headers"]["Authorization"][:-4] + "AAAA"

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        load_handler(spec)(event, LambdaContext(spec.logical_id, spec.timeout))


@pytest.mark.usefixtures("seeded")
def test_the_cleanup_answers_its_scheduler_event() -> None:
    spec = FUNCTIONS["cleanup"]
    event = json.loads((EVENTS_DIR / "cleanup.json").read_text())

    report = load_handler(spec)(event, LambdaContext(spec.logical_id, spec.timeout))

    assert report["finished"] is True


@pytest.mark.usefixtures("seeded")
def test_the_ingestion_worker_answers_its_queue_event() -> None:
    spec = FUNCTIONS["ai_files_worker"]
    event = json.loads((EVENTS_DIR / "ai_files_worker.json").read_text())

    result = load_handler(spec)(event, LambdaContext(spec.logical_id, spec.timeout))

    assert result == {"batchItemFailures": []}
