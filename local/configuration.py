"""Writes docs/configuration.md: every setting of `parley.config.Settings` (its environment
variable, default and description), then the variables only the local tooling reads.
`make configuration`; a test fails when the page drifts from the code."""

from __future__ import annotations

from typing import Any

from local.template import ROOT
from parley import config

PAGE = ROOT / "docs" / "configuration.md"
LOCAL_ONLY = [
    ("PORT", "3000", "port of `make dev`'s gateway"),
    ("RAG_STORE", "local", "`make dev RAG_STORE=opensearch` runs the API on a real OpenSearch node"),
    ("DYNAMODB_PORT", "a free port", "port of `make dev`'s DynamoDB Local"),
    ("LOCAL_DATA_DIR", "`.local/dynamodb`", "where `make dev`'s DynamoDB Local keeps its data"),
    (
        "LOCAL_MODEL",
        "`on`",
        "`make dev` runs SmolLM2-135M-Instruct on llama.cpp as the endpoint `local`; `off`: it does not",
    ),
    ("LOCAL_MODEL_PORT", "a free port", "port of `make dev`'s local model server"),
    (
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS",
        "DynamoDB endpoint (boto3's own); `make dev` starts DynamoDB Local unless set",
    ),
    ("OPENSEARCH_PORT", "a free port (9200 for `make opensearch`)", "port of the local OpenSearch node"),
    ("OPENSEARCH_DATA_DIR", "`.local/opensearch`", "where `make dev`'s OpenSearch node keeps its data"),
    ("OPENSEARCH_HEAP", "`768m`", "the local OpenSearch node's JVM heap"),
    ("JAVA17_HOME", "the machine's JDK 17", "the Java that runs the OpenSearch node (2.19 needs 17)"),
    ("POWERTOOLS_*", "see `template.yaml`", "logging and metrics (Powertools for AWS Lambda)"),
]


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.get_default()
    if value is None:
        return "unset"
    if hasattr(value, "get_secret_value"):
        return "unset"
    return f"`{value}`" if value not in ("", ()) else "empty"


def render() -> str:
    rows = [
        "# Configuration",
        "",
        "Generated from `layers/parley/parley/config.py` by `make configuration`: do not edit by hand.",
        "The functions read these environment variables (set by `template.yaml` in AWS, by `make dev`",
        "locally).",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in config.Settings.model_fields.items():
        rows.append(
            f"| `{name.upper()}` | {_default(field)} | {(field.description or '').replace('|', '/')} |"
        )
    rows += ["", "## Local tooling only", "", "| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{name}` | {default} | {meaning} |" for name, default, meaning in LOCAL_ONLY]
    return "\n".join(rows) + "\n"


def main() -> None:
    PAGE.write_text(render())
    print(f"wrote {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
