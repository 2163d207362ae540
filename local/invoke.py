"""`make invoke FUNCTION=<name> EVENT=events/<name>.json`: one invocation of a function in a fresh
process, as a Lambda container runs it (its own interpreter, the handler imported once, the
function's timeout), printing its logs and then its response, as `sam local invoke` does, on a
machine without Docker. It reaches what a running `make dev` serves (its DynamoDB Local, bucket
and vector store, from .local/dev.json); without one, a DynamoDB Local of its own, in memory."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local.dynamodb import DynamoDBLocal, client, create_table, free_port, wait_until_ready
from local.lambda_runtime import FunctionPool, HandlerError
from local.settings import local_environment
from local.template import ROOT, FunctionSpec, load

DEV_ENVIRONMENT = ROOT / ".local" / "dev.json"
# What a running make dev tells the commands beside it: where things are, never a credential.
SHARED = (
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SQS",
    "TABLE_NAME",
    "FILES_BUCKET",
    "RAG_VECTOR_STORE",
    "RAG_LOCAL_PATH",
    "OPENSEARCH_URL",
    "OPENSEARCH_SERVICE",
)


def share_dev_environment() -> None:
    """make dev: write where things are for make invoke (removed when make dev stops)."""
    DEV_ENVIRONMENT.parent.mkdir(parents=True, exist_ok=True)
    DEV_ENVIRONMENT.write_text(json.dumps({name: os.environ[name] for name in SHARED if name in os.environ}))


def function_spec(name: str) -> FunctionSpec:
    """A function by its logical id (CleanupFunction) or its folder (cleanup)."""
    functions = load().functions
    found = functions.get(name) or next((f for f in functions.values() if f.code_dir.name == name), None)
    if found is None:
        known = ", ".join(sorted(f.code_dir.name for f in functions.values()))
        raise SystemExit(f"No function {name!r} in template.yaml; one of: {known}")
    return found


@contextmanager
def environment(isolated: bool = False) -> Iterator[str]:
    """The environment the container starts with, and where it comes from (`isolated`: never
    the running make dev's)."""
    saved = dict(os.environ)
    level = {"POWERTOOLS_LOG_LEVEL": saved.get("POWERTOOLS_LOG_LEVEL", "INFO")}  # Lambda's default
    database = None
    found = DEV_ENVIRONMENT.exists() and not isolated
    shared: dict[str, str] = json.loads(DEV_ENVIRONMENT.read_text()) if found else {}
    try:
        if shared and _answers(shared["AWS_ENDPOINT_URL_DYNAMODB"]):
            os.environ.update(local_environment(shared["AWS_ENDPOINT_URL_DYNAMODB"]) | shared | level)
            yield "the running make dev"
        else:
            database = DynamoDBLocal(free_port()).start()
            os.environ.update(local_environment(database.endpoint) | level)
            create_table(client(database.endpoint), os.environ["TABLE_NAME"])
            yield "a DynamoDB Local of its own (no make dev is running)"
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if database is not None:
            database.stop()


def _answers(endpoint: str) -> bool:
    try:
        wait_until_ready(endpoint, timeout=2)
    except (OSError, TimeoutError, RuntimeError):
        return False
    return True


def invoke(spec: FunctionSpec, event: dict[str, Any]) -> tuple[Any, float]:
    pool = FunctionPool(spec)
    started = time.perf_counter()
    try:
        result = pool.invoke(event)
    finally:
        pool.close()
    return result, (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description="Invoke one function once, as a Lambda container would.")
    parser.add_argument("--function", required=True, help="logical id (CleanupFunction) or folder (cleanup)")
    parser.add_argument("--event", required=True, help="an event file, e.g. events/cleanup.json")
    parser.add_argument(
        "--isolated", action="store_true", help="a DynamoDB Local of its own, even if make dev runs"
    )
    args = parser.parse_args()
    spec = function_spec(args.function)
    event = json.loads(Path(args.event).read_text())
    request_id = str(uuid.uuid4())
    with environment(args.isolated) as where:
        print(
            f"Invoking {spec.handler} ({spec.logical_id}) in a fresh process, against {where}",
            file=sys.stderr,
        )
        print(f"START RequestId: {request_id}", file=sys.stderr)
        try:
            result, duration = invoke(spec, event)
        except HandlerError as error:
            print(f"END RequestId: {request_id}", file=sys.stderr)
            print(json.dumps({"errorType": error.error_type, "errorMessage": str(error)}))
            sys.exit(1)
    print(f"END RequestId: {request_id}", file=sys.stderr)
    print(f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
