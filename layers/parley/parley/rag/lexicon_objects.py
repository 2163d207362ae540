"""The brands' lexicons (parley.rag.lexicon) as S3 objects, one per brand, read by every function
that searches and written by the ingestion path.

Reads: a container keeps each brand's file in its /tmp across warm invocations and revalidates it
on every search with a conditional GET (`If-None-Match` its ETag): a 304 costs one small request,
and a write from any other container is seen by the next search. Writes: the file is read
fresh, changed, compacted and put back only if nobody wrote it meanwhile (`If-Match` its ETag, or
`If-None-Match: *` for a brand's first document); when another write won, the change is made
again on the newer file. So two ingestions of one brand never lose each other's chunks.

Limits: the file is downloaded whole into /tmp and opened there: about 1.2 KB per chunk of 300
tokens (its text, its words and its metadata), so 100,000 chunks make a file of about 120 MB
against Lambda's 512 MB of /tmp by default (10 GB at most); writes to one brand are serialised
by the conditional puts (each re-uploads the file)."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from parley.errors import StoreUnavailable
from parley.rag.lexicon import Lexicon

T = TypeVar("T")
ATTEMPTS = 8  # conditional writes tried before a 503 (each after another write won)
_CONFLICTS = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


@dataclass
class _Cached:
    etag: str
    lexicon: Lexicon


class LexiconObjects:
    def __init__(self, s3: Any, bucket: str, prefix: str, cache_dir: str | None = None) -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix
        self.cache_dir = Path(cache_dir or Path(tempfile.gettempdir()) / "parley-lexicons")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._cached: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def object_key(self, brand_id: str) -> str:
        return f"{self.prefix}{hashlib.sha256(brand_id.encode()).hexdigest()[:32]}.sqlite3"

    def object_keys(self) -> list[str]:
        """Every brand's object (for the expiry sweep)."""
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            keys += [item["Key"] for item in page.get("Contents", []) if item["Key"].endswith(".sqlite3")]
        return keys

    def read(self, brand_id: str) -> Lexicon | None:
        """The brand's lexicon as last written anywhere; None before its first document."""
        with self._lock:
            return self._fresh(self.object_key(brand_id))

    def update(self, brand_id: str, change: Callable[[Lexicon], T], *, create: bool = True) -> T | None:
        """`change` applied to the brand's lexicon and written back without losing a concurrent
        write; its result (None, with nothing written, when there is no lexicon and `create` is
        off)."""
        return self.update_object(self.object_key(brand_id), change, create=create)

    def update_object(self, key: str, change: Callable[[Lexicon], T], *, create: bool = True) -> T | None:
        for attempt in range(ATTEMPTS):
            with self._lock:
                current = self._fresh(key)
            if current is None and not create:
                return None
            etag = self._cached[key].etag if current is not None else None
            with tempfile.TemporaryDirectory(dir=self.cache_dir) as scratch:
                working = Path(scratch) / "working.sqlite3"
                if current is not None:
                    shutil.copyfile(current.path, working)
                lexicon = Lexicon(str(working))
                try:
                    result = change(lexicon)
                    compacted = Path(scratch) / "compacted.sqlite3"
                    lexicon.compacted(str(compacted))
                finally:
                    lexicon.close()
                body = compacted.read_bytes()
                condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
                try:
                    written = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **condition)
                except Exception as error:
                    if _conflict(error):
                        time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
                        continue
                    raise
                with self._lock:
                    self._install(key, written["ETag"], compacted)
            return result
        raise StoreUnavailable(
            "The brand's documents are being changed by other requests; retry in a moment."
        )

    def _fresh(self, key: str) -> Lexicon | None:
        """The cached file revalidated against the object (one conditional GET)."""
        cached = self._cached.get(key)
        from botocore.exceptions import ClientError

        try:
            options = {"IfNoneMatch": cached.etag} if cached else {}
            answer = self.s3.get_object(Bucket=self.bucket, Key=key, **options)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 304 and cached is not None:
                return cached.lexicon
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                self._drop(key)
                return None
            raise
        with tempfile.NamedTemporaryFile(dir=self.cache_dir, delete=False) as file:
            for piece in answer["Body"].iter_chunks(1 << 20):
                file.write(piece)
        self._install(key, answer["ETag"], Path(file.name))
        return self._cached[key].lexicon

    def _install(self, key: str, etag: str, source: Path) -> None:
        """Make `source` the cached file of `key` at `etag` (moved into place; a search holding
        the previous file keeps reading it until it closes)."""
        self._drop(key)
        target = (
            self.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}-{etag.strip(chr(34))}.sqlite3"
        )
        os.replace(source, target)
        self._cached[key] = _Cached(etag, Lexicon(str(target)))

    def _drop(self, key: str) -> None:
        cached = self._cached.pop(key, None)
        if cached is not None:  # a search may still read it: its connection closes with it
            Path(cached.lexicon.path).unlink(missing_ok=True)


def _conflict(error: Exception) -> bool:
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    status = str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return code in _CONFLICTS or status in ("409", "412")
