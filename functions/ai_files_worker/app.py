"""The ingestion worker: SQS batches of S3 notifications of uploaded files and of synced folders
(parley.logic.sync: an object under sync/ created, overwritten or deleted, or a reconcile's check
of it). Each upload is parsed, chunked, embedded and indexed (parley.logic.files); a message that
fails for a passing reason (a store busy, another worker on the same upload) is reported as a
batch item failure, so SQS redelivers it alone and, after the queue's maxReceiveCount, moves it
to the dead-letter queue. A file that cannot be read is no failure here: its document says why,
and the queue moves on."""

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.logic.files import process_upload
from parley.logic.sync import PREFIX as SYNC_PREFIX
from parley.logic.sync import sync_object
from parley.observability import logger
from parley.wiring import Wiring

wiring = Wiring()  # this container's composition root
processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    notification: dict[str, Any] = json.loads(record.body)
    attempt = int(record.attributes.approximate_receive_count or 1)
    for entry in notification.get("Records") or []:  # an s3:TestEvent has none
        key = unquote_plus(entry["s3"]["object"]["key"])  # S3 event keys are URL-encoded
        parts: dict[str, Any] = {
            "registry": wiring.documents,
            "storage": wiring.required_files(),
            "store": wiring.vectors,
            "embed": wiring.embedder,
            "config": wiring.settings,
            "clock": wiring.clock,
            "attempt": attempt,
        }
        if key.startswith(SYNC_PREFIX):  # created, overwritten or deleted: the object says which
            logger.info("synced object checked", extra={"outcome": sync_object(key, **parts)})
        elif str(entry.get("eventName", "")).startswith("ObjectCreated"):
            logger.info("upload processed", extra={"outcome": process_upload(key, **parts)})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
