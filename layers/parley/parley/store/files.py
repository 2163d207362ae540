"""Uploaded files in S3: a presigned PUT for the client, a bounded read for the worker, a delete.

An upload's key says which document it is for, so the worker needs no lookup to find it:
`uploads/<the brand, scope and document ids as URL-safe base64 JSON>/<upload id>`. The bucket
(FILES_BUCKET) is private and encrypted; a lifecycle rule expires what stays there."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from parley.clock import SYSTEM_CLOCK, Clock
from parley.errors import StoreUnavailable

PREFIX = "uploads/"
UPLOAD_SECONDS = 900  # how long a presigned upload URL works


@dataclass(frozen=True)
class UploadKey:
    brand_id: str
    rag_scope: str
    document_id: str
    upload_id: str

    def __str__(self) -> str:
        ids = json.dumps([self.brand_id, self.rag_scope, self.document_id], separators=(",", ":"))
        return f"{PREFIX}{base64.urlsafe_b64encode(ids.encode()).decode().rstrip('=')}/{self.upload_id}"

    @classmethod
    def parse(cls, key: str) -> UploadKey | None:
        """The ids a key names, or None for a key Parley did not hand out."""
        try:
            encoded, upload_id = key.removeprefix(PREFIX).split("/")
            brand_id, rag_scope, document_id = json.loads(
                base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            )
        except ValueError:
            return None
        if not key.startswith(PREFIX) or not all(
            isinstance(v, str) for v in (brand_id, rag_scope, document_id)
        ):
            return None
        return cls(brand_id, rag_scope, document_id, upload_id)


class FileTooLarge(Exception):
    """The stored object is larger than its upload declared."""


class FileStorage:
    def __init__(self, bucket: str, client: Any = None, clock: Clock = SYSTEM_CLOCK) -> None:
        self.bucket = bucket
        self._client = client
        self.clock = clock

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # Signature V4 for presigned URLs (required in every region since 2020).
            self._client = boto3.client(
                "s3", config=Config(signature_version="s3v4", retries={"mode": "standard"})
            )
        return self._client

    def presign_put(self, key: str, content_type: str) -> tuple[str, dict[str, str], datetime]:
        """A URL the client PUTs the bytes to, the headers it must send, and when it expires."""
        url = self.client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=UPLOAD_SECONDS,
        )
        return url, {"Content-Type": content_type}, self.clock.now() + timedelta(seconds=UPLOAD_SECONDS)

    def read(self, key: str, limit: int) -> bytes:
        """The object's bytes; FileTooLarge past `limit` (read no further than that)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            if int(response["ContentLength"]) > limit:
                raise FileTooLarge(
                    f"The upload holds {response['ContentLength']} bytes; {limit} were declared."
                )
            data: bytes = response["Body"].read(limit + 1)
        except (ClientError, BotoCoreError) as error:
            raise StoreUnavailable("The file store could not be read; retry in a moment.") from error
        if len(data) > limit:
            raise FileTooLarge(f"The upload holds more than the {limit} bytes declared.")
        return data

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def head(self, key: str) -> StoredObject | None:
        """The object's ETag, size and type; None when there is none at `key`."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            found = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StoreUnavailable("The file store could not be read; retry in a moment.") from error
        except BotoCoreError as error:
            raise StoreUnavailable("The file store could not be read; retry in a moment.") from error
        return StoredObject(
            key, found["ETag"].strip('"'), int(found["ContentLength"]), found.get("ContentType") or ""
        )

    def listing(self, prefix: str) -> dict[str, str]:
        """key → ETag of every object under `prefix` (folder markers, keys ending in /, left out)."""
        from botocore.exceptions import BotoCoreError, ClientError

        found: dict[str, str] = {}
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            ):
                for item in page.get("Contents", []):
                    if not item["Key"].endswith("/"):
                        found[item["Key"]] = item["ETag"].strip('"')
        except (ClientError, BotoCoreError) as error:
            raise StoreUnavailable("The file store could not be listed; retry in a moment.") from error
        return found


@dataclass(frozen=True)
class StoredObject:
    key: str
    etag: str
    size: int
    content_type: str
