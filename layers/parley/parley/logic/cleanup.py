"""The scheduled cleanup: conversations inactive past the retention are deleted, deleted ones are
purged, and expired RAG chunks are removed. The work is found through the work index (no Scan),
so a run costs in proportion to what it does; it stops before its function's timeout and the next
run resumes; two runs at once, or one after another, do no harm (every step is conditional or
idempotent). The clock is the schedule's: the event's `time`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from parley.config import Settings
from parley.models.domain import timestamp
from parley.rag.vectors import VectorStore
from parley.store.keys import SHARDS
from parley.store.lifecycle import ConversationLifecycle


@dataclass
class CleanupReport:
    expired: int = 0  # inactive conversations deleted
    rechecked: int = 0  # due for a check, still active: checked again later
    purged: int = 0  # deleted conversations whose items are gone
    chunks_removed: int = 0  # expired RAG chunks
    finished: bool = True  # False: stopped for time; the next run goes on


def run_cleanup(
    now: datetime,
    seconds_left: Callable[[], float],
    *,
    lifecycle: ConversationLifecycle,
    vectors: VectorStore,
    config: Settings,
) -> CleanupReport:
    margin = config.cleanup_stop_margin_seconds
    report = CleanupReport()

    def out_of_time() -> bool:
        report.finished = seconds_left() > margin
        return not report.finished

    retention = config.conversation_retention_days
    if retention:
        cutoff = (now - timedelta(days=retention)).date().isoformat()
        for shard in range(SHARDS):
            for conversation_id, check_key in lifecycle.due(shard, cutoff):
                if out_of_time():
                    return report
                updated_at = lifecycle.last_activity(conversation_id)
                if updated_at is None:
                    continue
                if updated_at[:10] < cutoff:
                    report.expired += lifecycle.expire(conversation_id, check_key, updated_at, timestamp(now))
                else:
                    lifecycle.check_again(conversation_id, check_key, updated_at[:10])
                    report.rechecked += 1
    for shard in range(SHARDS):
        for conversation_id in lifecycle.queued(shard):
            if out_of_time() or not lifecycle.purge(conversation_id, out_of_time):
                return report
            report.purged += 1
    report.chunks_removed = vectors.delete_expired(now.isoformat())
    return report
