"""`make bench`: every figure, against DynamoDB Local on this machine. Prints one JSON object per
line and writes them to bench/results.jsonl. Figures only: nothing passes or fails."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

from bench import cold_start, costs, rag, sizes, warm
from bench.report import Report
from local.dynamodb import DynamoDBLocal, client, create_table, free_port
from local.events import CONVERSATION_ID, DOCUMENT_ID, USER
from local.fake_providers import ANTHROPIC_KEY, OPENAI_KEY, ProviderServer
from local.settings import LOCAL_SECRET, local_environment
from parley.logic.ingest import ingest_documents
from parley.models.api.rag import DocumentIn
from parley.models.domain import Conversation, timestamp
from parley.store import items
from parley.store.dynamodb import dynamodb_client


def reseed(table: str) -> None:
    """(Re)create the conversation and the document the events/ files address, unconditionally."""
    now = timestamp()
    conversation = Conversation(
        id=CONVERSATION_ID,
        user_id=USER.user_id,
        brand_id="acme",
        title="Bench",
        model="parley-offline",
        system_prompt=None,
        metadata={},
        message_count=0,
        created_at=now,
        updated_at=now,
    )
    for item in (items.meta_item(conversation), items.profile_item(conversation)):
        dynamodb_client().put_item(TableName=table, Item=item)
    ingest_documents(
        USER,
        [
            DocumentIn(
                brand_id="acme",
                rag_scope="hr",
                document_id=DOCUMENT_ID,
                title="Handbook",
                content="Every employee gets 25 vacation days a year.\n\n"
                "Unused vacation days carry over until March.",
            )
        ],
    )


def main() -> None:
    warnings.filterwarnings("ignore", "No application metrics to publish")
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
            "RAG_LOCAL_PATH": str(Path(scratch.name) / "vectors.sqlite3"),
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
        rag.run(report)
        cold_start.run(report, env, lambda: reseed(env["TABLE_NAME"]), provider_env)
        warm.run(report, lambda: reseed(env["TABLE_NAME"]))
        sizes.run(report)
    finally:
        providers.stop()
        database.stop()
        scratch.cleanup()
    report.save()


if __name__ == "__main__":
    main()
