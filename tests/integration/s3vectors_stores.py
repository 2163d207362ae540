"""S3 Vectors stores for the store tests, as separate containers would hold them: one vector
index and lexicon prefix per test, each container with its own /tmp cache."""

from __future__ import annotations

import uuid
from pathlib import Path

from local.files_stack import BUCKET
from local.s3vectors_server import S3VectorsServer
from parley.rag.lexicon_objects import LexiconObjects
from parley.rag.s3vectors_store import S3VectorsStore
from tests.conftest import S3VECTORS_TEST_BUCKET, LocalStack
from tests.integration.vector_chunks import EMBED


class Stores:
    """Stores as separate containers would hold them: each with its own /tmp cache."""

    def __init__(self, stack: LocalStack, server: S3VectorsServer, root: Path) -> None:
        self.stack, self.server, self.root = stack, server, root
        self.index = f"test-{uuid.uuid4().hex[:10]}"
        self.prefix = f"lexicons-{uuid.uuid4().hex[:8]}/"
        self.vectors = server.client()

    def container(self) -> S3VectorsStore:
        cache = self.root / uuid.uuid4().hex
        lexicons = LexiconObjects(self.stack.files.client("s3"), BUCKET, self.prefix, str(cache))
        return S3VectorsStore(self.vectors, S3VECTORS_TEST_BUCKET, self.index, EMBED.dimension, lexicons)

    def vector_count(self) -> int:
        listed = self.vectors.list_vectors(vectorBucketName=S3VECTORS_TEST_BUCKET, indexName=self.index)
        return len(listed["vectors"])
