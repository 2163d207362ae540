"""`make bench`: every figure, against DynamoDB Local on this machine. Prints one JSON object per
line and writes them to bench/results.jsonl. Figures only: nothing passes or fails."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

from bench import (
    caching,
    cold_start,
    costs,
    embedder,
    files,
    load,
    local_model,
    mcp_tools,
    opensearch,
    rag,
    s3vectors,
    sizes,
    stream_log,
    streaming,
    warm,
)
from bench.report import Report
from local.dynamodb import DynamoDBLocal, client, create_table, free_port
from local.settings import LOCAL_SECRET, local_environment
from parley.config import settings_from
from parley.observability import logger
from parley.store.dynamodb import dynamodb_client
from tests.doubles.fake_providers import ANTHROPIC_KEY, OPENAI_KEY, ProviderServer
from tests.doubles.seeding import seed_events_data


def reseed(table: str) -> None:
    seed_events_data(dynamodb_client(), table)


def main() -> None:
    warnings.filterwarnings("ignore", "No application metrics to publish")
    logger.setLevel("ERROR")  # created at import, before this process's environment was set
    report = Report()
    database = DynamoDBLocal(free_port()).start()
    providers = ProviderServer()
    scratch = tempfile.TemporaryDirectory()  # the bench's vectors, never the developer's .local/
    try:
        env = {
            **os.environ,
            **local_environment(database.endpoint),
            "TABLE_NAME": "parley-bench",
            "JWT_HS256_SECRET": LOCAL_SECRET,
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_METRICS_DISABLED": "true",  # stdout is the figures, one per line
            "RAG_LOCAL_PATH": str(Path(scratch.name) / "vectors.sqlite3"),
            # No limit: the warm figures time generations, and a 5,000-message history spends the
            # default user budget in a few dozen (the counters are still written, and timed).
            "QUOTA_USER_DAILY_TOKENS": "0",
            "QUOTA_BRAND_DAILY_TOKENS": "0",
            # Presigning sends no request; the files part runs S3 of its own.
            "FILES_BUCKET": "parley-bench-files",
        }
        os.environ.update(env)
        create_table(client(database.endpoint), env["TABLE_NAME"])
        provider_env = {
            "OPENAI_API_KEY": OPENAI_KEY,
            "OPENAI_BASE_URL": providers.openai_url,
            "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            "ANTHROPIC_BASE_URL": providers.anthropic_url,
        }
        costs.run(report, env["TABLE_NAME"])
        stream_log.run(report, settings_from(os.environ))
        embedder.run(report)
        corpus = rag.run(report)
        if os.environ.get("BENCH_OPENSEARCH", "1") != "0":
            opensearch.run(report, corpus)
        if os.environ.get("BENCH_S3VECTORS", "1") != "0":
            s3vectors.run(report, corpus)
        cold_start.run(report, env, lambda: reseed(env["TABLE_NAME"]), provider_env)
        warm.run(report, lambda: reseed(env["TABLE_NAME"]))
        sizes.run(report)
        streaming.run(report, providers, provider_env)
        caching.run(report, providers)
        local_model.run(report)
        mcp_tools.run(report)
        files.run(report)
        load.run(report)  # its own DynamoDB Local, gateway and provider server, as make dev runs them
    finally:
        providers.stop()
        database.stop()
        scratch.cleanup()
    report.save()
    if report.refused:
        raise SystemExit(f"{len(report.refused)} figure(s) refused, their requests failed: {report.refused}")


if __name__ == "__main__":
    main()
