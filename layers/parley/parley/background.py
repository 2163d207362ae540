"""Work handed to another function to run after the request that asked for it has answered:
an asynchronous Lambda invocation (InvocationType Event), which Lambda queues and runs once
(the worker's EventInvokeConfig allows no retry: a background answer is never generated twice).
Lambda refuses an asynchronous payload over 1 MB; such a request is a 413 before anything runs."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from parley.errors import ContentTooLarge, StoreUnavailable

MAX_PAYLOAD_BYTES = 1024 * 1024


class BackgroundRunner:
    def __init__(self, function_name: str, client: Any) -> None:
        self.function_name, self.client = function_name, client

    def run(self, job: dict[str, Any]) -> None:
        payload = json.dumps(job, separators=(",", ":")).encode()
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise ContentTooLarge("A background request must be under 1 MB; ask without background.")
        try:
            self.client.invoke(FunctionName=self.function_name, InvocationType="Event", Payload=payload)
        except (BotoCoreError, ClientError) as error:  # not queued
            raise StoreUnavailable("The background run could not be queued; nothing ran. Retry.") from error
