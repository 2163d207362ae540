"""The file-upload pipeline on this machine, as in AWS: moto in server mode is the S3 and SQS
endpoint (presigned URLs, the bucket's object-created notifications to the queue, the queue's
redrive to a dead-letter queue), and a poller invokes the worker function with SQS batches as
Lambda's event source mapping does: failed items reported by the worker become visible again
and are retried, the rest are deleted."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import boto3

from local.dynamodb import free_port
from local.lambda_runtime import FunctionPool
from local.processes import tied_to_this_process

log = logging.getLogger("parley.files")

BUCKET = "parley-local-files"
QUEUE = "parley-local-files"
DEAD_LETTERS = "parley-local-files-dlq"
WORKER = "AiFilesWorkerFunction"
VISIBILITY_SECONDS = 3  # short here, so a failed item is retried while a developer watches
MAX_RECEIVES = 5
BATCH = 5


class FilesStack:
    def __init__(self, region: str) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.region = region
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._stopped = threading.Event()
        self._poller: threading.Thread | None = None
        self.queue_url = self.queue_arn = ""

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def start(self) -> FilesStack:
        """moto's server in a process of its own: its state is apart from any moto mock a test
        process uses (a mock resets the backends of its own process)."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local.moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
            cwd=Path(__file__).resolve().parents[1],  # the repository, where `local` is
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=tied_to_this_process(),  # noqa: PLW1509 (one prctl call, see local.processes)
        )
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("moto's server did not start")
        sqs, s3 = self.client("sqs"), self.client("s3")
        dead = sqs.create_queue(QueueName=DEAD_LETTERS)["QueueUrl"]
        dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.queue_url = sqs.create_queue(
            QueueName=QUEUE,
            Attributes={
                "VisibilityTimeout": str(VISIBILITY_SECONDS),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dead_arn, "maxReceiveCount": MAX_RECEIVES}
                ),
            },
        )["QueueUrl"]
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=BUCKET)
        else:
            s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": self.region})
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": self.queue_arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}},
                    },
                    {  # synced folders: what is added, overwritten or deleted there
                        "QueueArn": self.queue_arn,
                        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "sync/"}]}},
                    },
                ]
            },
        )
        return self

    def environment(self) -> dict[str, str]:
        """What the functions need to reach the bucket."""
        return {
            "FILES_BUCKET": BUCKET,
            "FILES_QUEUE_URL": self.queue_url,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ENDPOINT_URL_SQS": self.endpoint,
        }

    def poll(self, worker: FunctionPool) -> None:
        """Deliver the queue's messages to the worker in the background until stopped."""
        self._poller = threading.Thread(target=self._poll, args=(worker,), name="files-poller", daemon=True)
        self._poller.start()

    def _poll(self, worker: FunctionPool) -> None:
        sqs = self.client("sqs")
        while not self._stopped.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=BATCH,
                    WaitTimeSeconds=1,
                    AttributeNames=["All"],
                ).get("Messages", [])
                if messages:
                    self._deliver(sqs, worker, messages)
            except Exception:
                if not self._stopped.is_set():
                    log.exception("delivering upload notifications failed")
                    self._stopped.wait(1)

    def _deliver(self, sqs: Any, worker: FunctionPool, messages: list[dict[str, Any]]) -> None:
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": self.region,
                }
                for m in messages
            ]
        }
        try:
            result = worker.invoke(event)
            failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        except Exception:
            log.exception("the worker failed: the whole batch is retried")
            return
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(uuid.uuid4()), "ReceiptHandle": m["ReceiptHandle"]} for m in done],
            )

    def stop(self) -> None:
        self._stopped.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
