"""Fixtures shared by the integration and contract tests: DynamoDB Local (in memory) and the
local gateway on real HTTP ports, started once per session and only when a test asks."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from hypothesis.internal.conjecture import providers as hypothesis_providers

from local.dynamodb import DynamoDBLocal, client, create_table, free_port
from local.files_stack import WORKER, FilesStack
from local.gateway import LocalServer
from local.local_model import LocalModel
from local.opensearch_node import OpenSearchNode, wait_for_refresh
from local.s3vectors_server import S3VectorsServer
from local.settings import local_environment
from local.token import mint
from tests.doubles.dynamodb_proxy import DynamoDBProxy
from tests.doubles.fake_bedrock import BedrockServer
from tests.doubles.fake_providers import ANTHROPIC_KEY, OPENAI_KEY, ProviderServer


@dataclass
class LocalStack:
    url: str
    dynamodb_endpoint: str  # the proxy the functions reach DynamoDB Local through
    table_name: str
    database: DynamoDBLocal
    dynamodb: DynamoDBProxy
    files: FilesStack


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    database = DynamoDBLocal(free_port()).start()
    proxy = DynamoDBProxy(database.endpoint)
    environment = local_environment(proxy.endpoint)
    environment["TABLE_NAME"] = "parley-test"
    # The suites assert a reply's exact provider traffic, tokens and round trips; titles have
    # their own tests (test_titles.py), which turn them on.
    environment["CONVERSATION_TITLES"] = "false"
    environment["RAG_LOCAL_PATH"] = str(tmp_path_factory.mktemp("vectors") / "vectors.sqlite3")
    environment["LOCAL_SECRETS_KEY_FILE"] = str(tmp_path_factory.mktemp("secrets") / "secrets.key")
    files = FilesStack(environment["AWS_REGION"]).start()
    environment.update(files.environment())
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    create_table(client(database.endpoint), environment["TABLE_NAME"])
    server = LocalServer(free_port()).start()
    saved["AWS_ENDPOINT_URL_LAMBDA"] = os.environ.get("AWS_ENDPOINT_URL_LAMBDA")
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = server.url  # background responses' worker
    files.poll(server.gateway.pools[WORKER])
    try:
        yield LocalStack(server.url, proxy.endpoint, environment["TABLE_NAME"], database, proxy, files)
    finally:
        files.stop()
        server.stop()
        proxy.stop()
        database.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def api(local_stack: LocalStack) -> Iterator[httpx.Client]:
    """An HTTP client of the local gateway. The process environment is the stack's again, in case
    a unit test changed it."""
    os.environ["TABLE_NAME"] = local_stack.table_name
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = local_stack.dynamodb_endpoint
    local_stack.dynamodb.clear()
    with httpx.Client(base_url=local_stack.url, timeout=30) as http:
        yield http


TokenFactory = Callable[..., dict[str, str]]


@pytest.fixture
def auth() -> TokenFactory:
    """`auth("alice", brands=["acme"], scopes=[...])` → Authorization header for that caller."""

    def headers(sub: str, **claims: object) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint(sub, **claims)}"}  # type: ignore[arg-type]

    return headers


@pytest.fixture(scope="module")
def bedrock_server() -> Iterator[BedrockServer]:
    """The local Bedrock Runtime server (Converse, Titan, ApplyGuardrail), one per test module."""
    server = BedrockServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def local_model() -> Iterator[LocalModel]:
    """The real local chat model (SmolLM2-135M-Instruct on llama.cpp, one thread), once a session."""
    model = LocalModel().start()
    yield model
    model.stop()


@pytest.fixture(scope="session")
def provider_server() -> Iterator[ProviderServer]:
    server = ProviderServer()
    yield server
    server.stop()


@pytest.fixture
def providers(provider_server: ProviderServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProviderServer]:
    """The functions' OpenAI and Anthropic SDKs pointed at the local provider server, with a short
    deadline so timeout cases finish quickly."""
    for name, value in {
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": provider_server.openai_url,
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "ANTHROPIC_BASE_URL": provider_server.anthropic_url,
        "PROVIDER_TIMEOUT_SECONDS": "3",
    }.items():
        monkeypatch.setenv(name, value)
    provider_server.reset()
    yield provider_server
    provider_server.reset()
    monkeypatch.undo()


@pytest.fixture(scope="module")
def no_literals_from_loaded_modules() -> Iterator[None]:
    """Hypothesis's provider mixes in literals found in the source of every loaded local module
    (`_get_local_constants`); which are loaded depends on what ran before. Without them the
    generated cases depend only on the strategy and the seed."""
    empty = hypothesis_providers.Constants()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hypothesis_providers, "_get_local_constants", lambda: empty)
        hypothesis_providers.CONSTANTS_CACHE.cache.clear()
        yield
    hypothesis_providers.CONSTANTS_CACHE.cache.clear()


@pytest.fixture(scope="session")
def opensearch_node() -> Iterator[OpenSearchNode]:
    """One real OpenSearch 2.19 node with k-NN for the session (`make opensearch-install` fetched
    it), started by the first test that asks and stopped at the end; the node also stops if this
    process dies, when its standard input closes."""
    node = OpenSearchNode().start()
    try:
        yield node
    finally:
        node.stop()


S3VECTORS_TEST_BUCKET = "parley-test-vectors"


@pytest.fixture(scope="session")
def s3vectors_server() -> Iterator[S3VectorsServer]:
    """The local S3 Vectors endpoint (local.s3vectors_server) with the suite's vector bucket."""
    server = S3VectorsServer()
    server.state.create_vector_bucket({"vectorBucketName": S3VECTORS_TEST_BUCKET})
    yield server
    server.stop()


@dataclass
class VectorBackend:
    """The vector store the functions use in a test: the embedded local store, or OpenSearch on
    the session's node. `settle()` waits until searches see every write acknowledged so far
    (OpenSearch is near-real-time; the local store is at once)."""

    name: str
    node: OpenSearchNode | None = None

    def settle(self) -> None:
        if self.node is None:
            return
        from opensearchpy import OpenSearch

        client = OpenSearch([self.node.url])
        for index in client.indices.get(index=f"{OPENSEARCH_TEST_PREFIX}-*", ignore_unavailable=True):
            wait_for_refresh(client, index)


OPENSEARCH_TEST_PREFIX = "parley-api-chunks"


@pytest.fixture(params=["local", "opensearch", "s3vectors"])
def vector_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> VectorBackend:
    """Runs a RAG API test once on each store (the functions read RAG_VECTOR_STORE per container).
    The s3vectors store keeps its word indexes in the stack's files bucket (moto)."""
    if request.param == "local":
        monkeypatch.setenv("RAG_VECTOR_STORE", "local")
        return VectorBackend("local")
    if request.param == "s3vectors":
        server: S3VectorsServer = request.getfixturevalue("s3vectors_server")
        monkeypatch.setenv("RAG_VECTOR_STORE", "s3vectors")
        monkeypatch.setenv("S3VECTORS_BUCKET", S3VECTORS_TEST_BUCKET)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3VECTORS", server.url)
        return VectorBackend("s3vectors")
    node: OpenSearchNode = request.getfixturevalue("opensearch_node")
    monkeypatch.setenv("RAG_VECTOR_STORE", "opensearch")
    monkeypatch.setenv("OPENSEARCH_URL", node.url)
    monkeypatch.setenv("OPENSEARCH_SERVICE", "none")
    monkeypatch.setenv("OPENSEARCH_INDEX_PREFIX", OPENSEARCH_TEST_PREFIX)
    return VectorBackend("opensearch", node)
