"""The composition root: everything a container's code depends on, made once per container.

Each function module makes one `Wiring` at import (its container's) and hands its parts to the
use cases; the authorizer, the file worker and the cleanup do the same. Nothing is read or
connected when the wiring is made: the settings are read from the environment on first use,
and each part is built the first time a request needs it, so a function pays only for what its
routes use (an embedder, OpenSearch, a provider SDK). A test makes its own wiring from values,
or replaces a part before first use (`Wiring(settings, dynamodb=client)`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from parley.clock import Clock
from parley.config import Settings, settings_from
from parley.errors import ProviderNotConfigured

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from parley.auth.tokens import TokenVerifier
    from parley.background import BackgroundRunner
    from parley.logic.generation import Generator
    from parley.logic.quotas import BudgetBook
    from parley.providers.embedders import Embedder
    from parley.providers.guardrail import Guardrail
    from parley.providers.provider_for import ProviderPool
    from parley.rag.rerank import Reranker
    from parley.rag.retrieval import Retriever
    from parley.rag.vectors import VectorStore
    from parley.remote_tools.mcp import McpClient
    from parley.sealing import Sealer
    from parley.store.branch_moves import BranchStore
    from parley.store.catalog import CatalogStore
    from parley.store.connections import ConnectionStore
    from parley.store.conversations import ConversationStore
    from parley.store.documents import DocumentRegistry
    from parley.store.feedback import FeedbackStore
    from parley.store.files import FileStorage
    from parley.store.idempotency_records import IdempotencyRecords
    from parley.store.responses import ResponseStore
    from parley.store.stream_logs import StreamLogs
    from parley.store.sync_queue import SyncQueue
    from parley.store.usage import UsageStore


class Wiring:
    def __init__(
        self, settings: Settings | None = None, *, environ: Mapping[str, str] | None = None, **parts: Any
    ) -> None:
        """`settings` as given, else read from `environ` (the process environment by default) on
        first use; `parts` replace what would be built (`dynamodb=`, `embedder=`, `clock=`...)."""
        self._environ = environ
        if settings is not None:
            self.__dict__["settings"] = settings
        for name, part in parts.items():
            if not isinstance(getattr(type(self), name, None), cached_property):
                raise TypeError(f"Wiring has no part named {name!r}")
            self.__dict__[name] = part

    @cached_property
    def settings(self) -> Settings:
        return settings_from(os.environ if self._environ is None else self._environ)

    @cached_property
    def clock(self) -> Clock:
        return Clock(self.settings.clock_offset_seconds, self.settings.clock_frozen_at)

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        """Made on its first call: a request that never reaches DynamoDB does not pay for it."""
        from parley.store.dynamodb import DeferredClient, dynamodb_client

        return cast("DynamoDBClient", DeferredClient(dynamodb_client))

    @cached_property
    def idempotency_records(self) -> IdempotencyRecords:
        from parley.store.idempotency_records import IdempotencyRecords

        return IdempotencyRecords(self.settings.table_name, self.dynamodb)

    @cached_property
    def background(self) -> BackgroundRunner | None:
        """What runs a `background: true` response, when the deployment names its function."""
        if not self.settings.responses_background_function:
            return None
        import boto3

        from parley.background import BackgroundRunner

        return BackgroundRunner(self.settings.responses_background_function, boto3.client("lambda"))

    @cached_property
    def stream_logs(self) -> StreamLogs:
        from parley.store.stream_logs import StreamLogs

        return StreamLogs(self.settings.table_name, self.dynamodb, self.settings.stream_log_ttl_seconds)

    @cached_property
    def conversations(self) -> ConversationStore:
        from parley.store.conversations import ConversationStore

        return ConversationStore(self.settings.table_name, self.dynamodb, self.settings.usage_retention_days)

    @cached_property
    def branches(self) -> BranchStore:
        from parley.store.branch_moves import BranchStore

        return BranchStore(self.settings.table_name, self.dynamodb, self.settings.usage_retention_days)

    @cached_property
    def responses(self) -> ResponseStore:
        from parley.store.responses import ResponseStore

        return ResponseStore(self.settings.table_name, self.dynamodb)

    @cached_property
    def catalog(self) -> CatalogStore:
        from parley.store.catalog import CatalogStore

        return CatalogStore(self.settings.table_name, self.dynamodb)

    @cached_property
    def usage(self) -> UsageStore:
        from parley.store.usage import UsageStore

        return UsageStore(self.settings.table_name, self.dynamodb, self.settings.usage_retention_days)

    @cached_property
    def feedback(self) -> FeedbackStore:
        from parley.store.feedback import FeedbackStore

        return FeedbackStore(self.settings.table_name, self.dynamodb, self.settings.usage_retention_days)

    @cached_property
    def documents(self) -> DocumentRegistry:
        from parley.store.documents import DocumentRegistry

        return DocumentRegistry(self.settings.table_name, self.dynamodb)

    @cached_property
    def files(self) -> FileStorage | None:
        """The uploads bucket; None where FILES_BUCKET is unset (uploads are off)."""
        from parley.store.files import FileStorage

        bucket = self.settings.files_bucket
        return FileStorage(bucket, clock=self.clock) if bucket else None

    @cached_property
    def sync_queue(self) -> SyncQueue:
        from parley.store.sync_queue import SyncQueue

        if not self.settings.files_queue_url:
            raise ProviderNotConfigured("Folder sync is not configured: set FILES_QUEUE_URL.")
        return SyncQueue(self.settings.files_queue_url)

    def required_files(self) -> FileStorage:
        if self.files is None:
            raise ProviderNotConfigured("File uploads are not configured: set FILES_BUCKET.")
        return self.files

    @cached_property
    def embedder(self) -> Embedder:
        from parley.providers.embedders import build_embedder

        return build_embedder(self.settings)

    @cached_property
    def vectors(self) -> VectorStore:
        from parley.rag.stores import build_vector_store

        return build_vector_store(self.settings, lambda: self.embedder, self._live_keys)

    def _live_keys(
        self, brand_id: str, documents: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], frozenset[str]]:
        return self.documents.current_keys(brand_id, documents)

    @cached_property
    def providers(self) -> ProviderPool:
        from parley.providers.provider_for import ProviderPool

        return ProviderPool(self.settings)

    @cached_property
    def budgets(self) -> BudgetBook:
        from parley.logic.quotas import BudgetBook, Budgets

        config = self.settings
        defaults = Budgets(config.quota_user_daily_tokens, config.quota_brand_daily_tokens)
        return BudgetBook(defaults, self.usage, self.clock, config.quota_cache_seconds)

    @cached_property
    def generator(self) -> Generator:
        from parley.logic.generation import Generator

        config = self.settings
        return Generator(
            self.providers,
            self.budgets,
            self.usage,
            config.provider_timeout_seconds,
            config.stream_timeout_seconds,
            self.remote_tools,
            self.guardrail,
            config.guardrail_stream_window_chars,
            self.guardrail_for,
        )

    @cached_property
    def guardrail(self) -> Guardrail | None:
        """GUARDRAIL_ID's guardrail, applied to every provider's turns; None without one."""
        config = self.settings
        return (
            self.guardrail_for(config.guardrail_id, config.guardrail_version) if config.guardrail_id else None
        )

    def guardrail_for(self, identifier: str, version: str) -> Guardrail:
        """A guardrail by id and version (the deployment's, or an assistant's), sharing one client."""
        from parley.providers.guardrail import Guardrail

        config = self.settings
        return Guardrail(self._guardrail_client, identifier, version, config.guardrail_on_error)

    @cached_property
    def _guardrail_client(self) -> Any:
        from parley.providers.guardrail import guardrail_client

        config = self.settings
        region = config.bedrock_region or os.environ.get("AWS_REGION")
        return guardrail_client(region, config.guardrail_timeout_seconds)

    @cached_property
    def connections(self) -> ConnectionStore:
        from parley.store.connections import ConnectionStore

        return ConnectionStore(self.settings.table_name, self.dynamodb)

    @cached_property
    def sealer(self) -> Sealer | None:
        """What seals credentials at rest: KMS in AWS, a local key under make dev, else nothing."""
        config = self.settings
        if config.secrets_kms_key_id:
            import boto3

            from parley.sealing import KmsSealer

            return KmsSealer(config.secrets_kms_key_id, boto3.client("kms"))
        if config.local_secrets_key_file:
            from pathlib import Path

            from parley.sealing import LocalKeySealer

            return LocalKeySealer(Path(config.local_secrets_key_file))
        return None

    @cached_property
    def remote_tools(self) -> McpClient:
        from parley.egress import EgressPolicy
        from parley.remote_tools.mcp import McpClient

        config = self.settings
        return McpClient(
            EgressPolicy.of(config.mcp_allow_hosts),
            cache_seconds=config.mcp_tools_cache_seconds,
            max_output_bytes=config.mcp_max_output_bytes,
        )

    @cached_property
    def token_verifier(self) -> TokenVerifier:
        from parley.auth.tokens import TokenVerifier

        return TokenVerifier(self.settings)

    @cached_property
    def retriever(self) -> Retriever:
        """Retrieval whose store and embedder are made on the first search."""
        from parley.rag.feedback import Feedback
        from parley.rag.rerank import brand_reranks, default_rerank
        from parley.rag.retrieval import Retriever

        config = self.settings
        feedback = Feedback(
            config.rag_feedback_documents, config.rag_feedback_terms, config.rag_feedback_weight
        )
        return Retriever(
            lambda: self.vectors,
            lambda: self.embedder,
            feedback,
            lambda: self.reranker,
            default_rerank=default_rerank(config),
            brand_reranks=brand_reranks(config),
        )

    @cached_property
    def reranker(self) -> Reranker:
        """Bedrock's Rerank in the deployment's rerank region, made on the first reranked search."""
        from parley.rag.rerank import bedrock_reranker, rerank_region

        config = self.settings
        return bedrock_reranker(rerank_region(config), config.rag_rerank_timeout_seconds)
