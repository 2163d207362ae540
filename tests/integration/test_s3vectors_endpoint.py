"""The local S3 Vectors endpoint refuses what Amazon S3 Vectors documents it refuses, with the
service's error types, to boto3's own s3vectors client; and it answers queries as the service
does (cosine distance, filters with the documented operators, topK, strong consistency)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from local.s3vectors_server import S3VectorsServer

pytestmark = pytest.mark.integration

BUCKET = "endpoint-tests"


@pytest.fixture(scope="module")
def server() -> Iterator[S3VectorsServer]:
    own = S3VectorsServer()
    own.state.create_vector_bucket({"vectorBucketName": BUCKET})
    yield own
    own.stop()


@pytest.fixture
def client(server: S3VectorsServer) -> Any:
    return boto3.client(
        "s3vectors",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture
def index(client: Any) -> dict[str, str]:
    name = f"ix-{uuid.uuid4().hex[:8]}"
    client.create_index(
        vectorBucketName=BUCKET,
        indexName=name,
        dataType="float32",
        dimension=3,
        distanceMetric="cosine",
        metadataConfiguration={"nonFilterableMetadataKeys": ["text"]},
    )
    return {"vectorBucketName": BUCKET, "indexName": name}


def vector(key: str, data: list[float], **metadata: Any) -> dict[str, Any]:
    return {"key": key, "data": {"float32": data}, "metadata": metadata}


def refused(call: Any, **request: Any) -> str:
    with pytest.raises(Exception) as raised:
        call(**request)
    return str(raised.value.response["Error"]["Code"])  # type: ignore[attr-defined]


def test_a_query_ranks_by_cosine_distance_within_the_filter(client: Any, index: dict[str, str]) -> None:
    client.put_vectors(
        **index,
        vectors=[
            vector("a", [1, 0, 0], genre=["drama", "mystery"], year=2020),
            vector("b", [0.9, 0.1, 0], genre="comedy", year=2021),
            vector("c", [0, 1, 0], genre="mystery", year=2019, text="kept, not filterable"),
        ],
    )

    def keys(**query: Any) -> list[str]:
        answer = client.query_vectors(
            **index, queryVector={"float32": [1, 0, 0]}, returnDistance=True, **query
        )
        return [v["key"] for v in answer["vectors"]]

    nearest = client.query_vectors(**index, topK=1, queryVector={"float32": [1, 0, 0]}, returnDistance=True)

    assert nearest["distanceMetric"] == "cosine"
    assert nearest["vectors"][0]["key"] == "a" and nearest["vectors"][0]["distance"] == pytest.approx(
        0.0, abs=1e-6
    )
    assert keys(topK=3) == ["a", "b", "c"]
    assert keys(topK=3, filter={"genre": "mystery"}) == ["a", "c"]  # $eq on a list matches an element
    assert keys(topK=3, filter={"year": {"$gte": 2020}}) == ["a", "b"]
    assert keys(topK=3, filter={"$or": [{"genre": "comedy"}, {"year": {"$lt": 2020}}]}) == ["b", "c"]
    assert keys(topK=3, filter={"genre": {"$nin": ["comedy"]}, "year": {"$ne": 2019}}) == ["a"]
    assert keys(topK=3, filter={"text": {"$exists": True}}) == []  # a non-filterable key is not there
    assert keys(topK=3, filter={"year": "2020"}) == []  # a string never equals a number


def test_writes_and_deletes_are_seen_at_once(client: Any, index: dict[str, str]) -> None:
    client.put_vectors(**index, vectors=[vector("a", [1, 0, 0])])
    client.put_vectors(**index, vectors=[vector("a", [0, 1, 0], v=2)])  # the same key: replaced

    got = client.get_vectors(**index, keys=["a", "missing"], returnData=True, returnMetadata=True)["vectors"]
    client.delete_vectors(**index, keys=["a", "missing"])

    assert got == [{"key": "a", "data": {"float32": [0.0, 1.0, 0.0]}, "metadata": {"v": 2}}]
    assert client.get_vectors(**index, keys=["a"])["vectors"] == []


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        ({"vectors": [vector(f"k{n}", [1, 0, 0]) for n in range(501)]}, "over 500 vectors"),
        ({"vectors": [vector("k", [1, 0])]}, "the wrong dimension"),
        ({"vectors": [vector("k", [0, 0, 0])]}, "a zero vector under cosine"),
        ({"vectors": [vector("k", [1, 0, float("nan")])]}, "not a finite number"),
        ({"vectors": [vector("k" * 1025, [1, 0, 0])]}, "a key over 1,024 characters"),
        ({"vectors": [vector("k", [1, 0, 0]), vector("k", [0, 1, 0])]}, "one key twice"),
        ({"vectors": [vector("k", [1, 0, 0], **{f"m{n}": n for n in range(51)})]}, "over 50 metadata keys"),
        ({"vectors": [vector("k", [1, 0, 0], big="x" * 2100)]}, "over 2 KB filterable"),
        ({"vectors": [vector("k", [1, 0, 0], text="x" * 41_000)]}, "over 40 KB of metadata"),
    ],
)
def test_put_vectors_refuses_what_the_service_refuses_and_writes_nothing(
    client: Any, index: dict[str, str], request_: dict[str, Any], why: str
) -> None:
    assert refused(client.put_vectors, **index, **request_) == "ValidationException", why
    assert client.list_vectors(**index)["vectors"] == []


def test_non_filterable_metadata_may_be_long(client: Any, index: dict[str, str]) -> None:
    client.put_vectors(**index, vectors=[vector("k", [1, 0, 0], text="x" * 30_000)])

    assert len(client.list_vectors(**index)["vectors"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        {"topK": 101},  # (0 boto3 itself refuses)
        {"topK": 1, "filter": {"year": {"$regex": "x"}}},
        {"topK": 1, "filter": {"$not": {"year": 1}}},
        {"topK": 1, "filter": {"year": {"$gt": "2020"}}},
        {"topK": 1, "filter": {"year": {"$in": []}}},
        {"topK": 1, "filter": {"$and": []}},
    ],
)
def test_a_query_beyond_the_limits_or_the_filter_language_is_refused(
    client: Any, index: dict[str, str], query: dict[str, Any]
) -> None:
    assert (
        refused(client.query_vectors, **index, queryVector={"float32": [1, 0, 0]}, **query)
        == "ValidationException"
    )


def test_missing_resources_names_and_unsigned_requests_are_refused(
    client: Any, index: dict[str, str], server: S3VectorsServer
) -> None:
    unsigned = boto3.client(
        "s3vectors",
        endpoint_url=server.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED),
    )
    create = {"vectorBucketName": BUCKET, "dataType": "float32", "distanceMetric": "cosine"}

    assert (
        refused(client.get_vectors, vectorBucketName=BUCKET, indexName="nope-nope", keys=["a"])
        == "NotFoundException"
    )
    assert (
        refused(client.create_index, **create, indexName=index["indexName"], dimension=3)
        == "ConflictException"
    )
    assert (
        refused(client.create_index, **create, indexName="Upper_Case", dimension=3) == "ValidationException"
    )
    assert (
        refused(client.create_index, **create, indexName="too-wide", dimension=4097) == "ValidationException"
    )
    assert refused(client.get_vectors, **index, keys=[f"k{n}" for n in range(101)]) == "ValidationException"
    assert refused(unsigned.get_index, **index) == "AccessDeniedException"
