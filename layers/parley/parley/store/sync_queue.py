"""Checks of synced objects queued for the files worker: the same queue S3's notifications reach,
each message in their shape (a `Records` list naming the key), so the worker treats a reconcile's
checks and S3's events alike."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus

from parley.errors import StoreUnavailable

BATCH = 10  # messages per SendMessageBatch, SQS's limit


class SyncQueue:
    def __init__(self, url: str, client: Any = None) -> None:
        self.url = url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        return self._client

    def send(self, keys: list[str]) -> None:
        for start in range(0, len(keys), BATCH):
            entries = [
                {
                    "Id": str(n),
                    "MessageBody": json.dumps(
                        {
                            "Records": [
                                {
                                    "eventSource": "parley:sync",
                                    "eventName": "ObjectCreated:Reconcile",
                                    "s3": {"object": {"key": quote_plus(key)}},
                                }
                            ]
                        }
                    ),
                }
                for n, key in enumerate(keys[start : start + BATCH])
            ]
            sent = self.client.send_message_batch(QueueUrl=self.url, Entries=entries)
            if sent.get("Failed"):
                raise StoreUnavailable("The files queue refused some checks; retry the sync in a moment.")
