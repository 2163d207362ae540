"""The environment a local run gives the functions: the same variables the template sets in AWS,
with development values. Nothing here is a production secret."""

from __future__ import annotations

import os

from local.template import ROOT

LOCAL_SECRET = "parley-local-development-secret-not-for-production"
LOCAL_ISSUER = "parley-local"
LOCAL_AUDIENCE = "parley"
LOCAL_TABLE = "parley"
# Where a running `make dev` writes the port it listens on, for the commands that talk to it.
DEV_PORT_FILE = ROOT / ".local" / "dev.port"


def local_environment(dynamodb_endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_REGION", "us-east-1"),
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        "TABLE_NAME": os.environ.get("TABLE_NAME", LOCAL_TABLE),
        "JWT_ISSUER": LOCAL_ISSUER,
        "JWT_AUDIENCE": LOCAL_AUDIENCE,
        "JWT_HS256_SECRET": LOCAL_SECRET,
        # As the template's authorizer: every caller is metered on a usage plan's key.
        "USAGE_KEY_PREFIX": "parley-local-usage",
        "USAGE_PLAN_BRANDS": os.environ.get("USAGE_PLAN_BRANDS", "acme"),
        # Background responses: the worker, reached through the local gateway's Invoke API
        # (AWS_ENDPOINT_URL_LAMBDA, set once the gateway has its port).
        "RESPONSES_BACKGROUND_FUNCTION": "ResponsesBackgroundFunction",
        "POWERTOOLS_SERVICE_NAME": "parley",
        "POWERTOOLS_METRICS_NAMESPACE": "Parley",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        "RAG_VECTOR_STORE": os.environ.get("RAG_VECTOR_STORE", "local"),
        "RAG_EMBEDDER": os.environ.get("RAG_EMBEDDER", "minilm"),  # the packaged model, run with numpy
        "RAG_LOCAL_PATH": os.environ.get("RAG_LOCAL_PATH", str(ROOT / ".local" / "vectors.sqlite3")),
        # What seals an assistant's MCP credentials at rest here (KMS does in AWS): made on first use.
        "LOCAL_SECRETS_KEY_FILE": os.environ.get(
            "LOCAL_SECRETS_KEY_FILE", str(ROOT / ".local" / "secrets.key")
        ),
    }
