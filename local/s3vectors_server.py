"""A local Amazon S3 Vectors endpoint (moto does not implement QueryVectors): the data-plane and
index operations Parley calls, over the service's REST-JSON wire format (POST /<Operation>, JSON
bodies, errors as `x-amzn-ErrorType` with a `message`), so boto3's own `s3vectors` client talks
to it unchanged (`AWS_ENDPOINT_URL_S3VECTORS`).

It refuses what the service refuses, as the S3 User Guide's "Limitations and restrictions" for S3
Vectors and the API reference state them: vector buckets and indexes named 3 to 63 characters;
dimension 1 to 4,096 (float32 only); at most 10 non-filterable metadata keys per index; 1 to 500
vectors per PutVectors and DeleteVectors, 1 to 100 keys per GetVectors, topK 1 to 100 per
QueryVectors, 1 to 1,000 vectors per ListVectors page; keys 1 to 1,024 characters; a request
body of at most 20 MiB; per vector at most 40 KB of metadata, 50 metadata keys, and 2 KB of
filterable metadata; vector data of the index's dimension, finite, and not all zeros under the
cosine metric. Filters use the documented operators ($eq, $ne, $gt, $gte, $lt, $lte, $in, $nin,
$exists, $and, $or; a bare value is $eq; $eq on a list matches any element); anything else is a
ValidationException. Writes are strongly consistent: a vector is queryable, and a deleted one
gone, when the call returns, as the service documents.

Differences, on purpose: the search is exact (the service's is approximate, so it may return a
little less than the true nearest neighbours), filters are applied before the search (the
service's ENHANCED index mode), and nothing is persisted (a restart empties it). `faults` lets a
test make the next calls fail or slow down."""

from __future__ import annotations

import argparse
import base64
import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy

MAX_BODY = 20 * 1024 * 1024
MAX_PUT, MAX_DELETE, MAX_GET, MAX_TOP_K, MAX_LIST = 500, 500, 100, 100, 1000
MAX_KEY = 1024
MAX_DIMENSION = 4096
MAX_METADATA_BYTES, MAX_FILTERABLE_BYTES, MAX_METADATA_KEYS = 40 * 1024, 2 * 1024, 50
MAX_NON_FILTERABLE_KEYS = 10
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ACCOUNT = "123456789012"
_COMPARISONS = ("$gt", "$gte", "$lt", "$lte")


class ServiceError(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def _invalid(message: str) -> ServiceError:
    return ServiceError(400, "ValidationException", message)


def _not_found(message: str) -> ServiceError:
    return ServiceError(404, "NotFoundException", message)


@dataclass
class Faults:
    """What the next calls do instead of their work: `fail` ((status, error type) per call, in
    order; status 0 lets that call through), and `delay` seconds before each answer."""

    fail: list[tuple[int, str]] = field(default_factory=list)
    delay: float = 0.0
    calls: list[str] = field(default_factory=list)  # the operations called, in order


@dataclass
class Index:
    bucket: str
    name: str
    dimension: int
    metric: str
    non_filterable: frozenset[str]
    created: float
    vectors: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict)
    _snapshot: _Snapshot | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:s3vectors:us-east-1:{_ACCOUNT}:bucket/{self.bucket}/index/{self.name}"

    def changed(self) -> None:
        self._snapshot = None

    def snapshot(self) -> _Snapshot:
        """The vectors as arrays, made again after a write (a query reads them whole)."""
        if self._snapshot is None:
            self._snapshot = _Snapshot(self)
        return self._snapshot


_MISSING, _STRING, _NUMBER, _BOOLEAN, _LIST = 0, 1, 2, 3, 4


class _Snapshot:
    """An index's vectors as one matrix, and each filterable key as columns (its values' JSON
    types, the values, the numbers), so a filter is evaluated over all vectors at once."""

    def __init__(self, index: Index) -> None:
        self.keys = list(index.vectors)
        self.metadata = [index.vectors[key][1] for key in self.keys]
        self.filterable = [_filterable(m, index) for m in self.metadata]
        rows = [index.vectors[key][0] for key in self.keys]
        self.matrix = numpy.stack(rows) if rows else numpy.zeros((0, index.dimension), dtype=numpy.float32)
        self.norms = numpy.linalg.norm(self.matrix, axis=1)
        self._columns: dict[str, tuple[Any, Any, Any]] = {}

    def column(self, key: str) -> tuple[Any, Any, Any]:
        if key not in self._columns:
            values = [m.get(key) for m in self.filterable]
            kinds = numpy.array(
                [_kind(key in m, v) for m, v in zip(self.filterable, values, strict=True)], dtype=numpy.int8
            )
            objects = numpy.empty(len(values), dtype=object)
            objects[:] = values
            numbers = numpy.array(
                [
                    float(v) if k == _NUMBER and v is not None else math.nan
                    for k, v in zip(kinds, values, strict=True)
                ],
                dtype=numpy.float64,
            )
            self._columns[key] = (kinds, objects, numbers)
        return self._columns[key]

    def mask(self, condition: dict[str, Any]) -> Any:
        result = numpy.ones(len(self.keys), dtype=bool)
        for key, value in condition.items():
            if key == "$and":
                for part in value:
                    result &= self.mask(part)
            elif key == "$or":
                either = numpy.zeros(len(self.keys), dtype=bool)
                for part in value:
                    either |= self.mask(part)
                result &= either
            elif isinstance(value, dict):
                for op, operand in value.items():
                    result &= self._operator(key, op, operand)
            else:
                result &= self._equal(key, value)
        return result

    def _operator(self, key: str, op: str, operand: Any) -> Any:
        kinds, _, numbers = self.column(key)
        if op == "$exists":
            return (kinds != _MISSING) == operand
        if op == "$eq":
            return self._equal(key, operand)
        if op == "$ne":
            return ~self._equal(key, operand)
        if op in ("$in", "$nin"):
            found = numpy.zeros(len(self.keys), dtype=bool)
            for item in operand:
                found |= self._equal(key, item)
            return found if op == "$in" else ~found
        with numpy.errstate(invalid="ignore"):
            compared = {"$gt": numbers > operand, "$gte": numbers >= operand, "$lt": numbers < operand}
            return compared.get(op, numbers <= operand) & (kinds == _NUMBER)

    def _equal(self, key: str, wanted: Any) -> Any:
        """Equal and of the same JSON type; a list holds it as one of its elements."""
        kinds, objects, numbers = self.column(key)
        if isinstance(wanted, bool):
            found = (kinds == _BOOLEAN) & (objects == wanted)
        elif isinstance(wanted, str):
            found = (kinds == _STRING) & (objects == wanted)
        else:
            found = (kinds == _NUMBER) & (numbers == wanted)
        for position in numpy.flatnonzero(kinds == _LIST):
            found[position] = any(_same(item, wanted) for item in objects[position])
        return numpy.asarray(found, dtype=bool)


def _kind(present: bool, value: Any) -> int:
    if not present:
        return _MISSING
    if isinstance(value, bool):
        return _BOOLEAN
    if isinstance(value, str):
        return _STRING
    if isinstance(value, list):
        return _LIST
    return _NUMBER


class S3VectorsState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets: dict[str, dict[str, Index]] = {}

    def index(self, body: dict[str, Any]) -> Index:
        arn = body.get("indexArn")
        if arn:
            found = re.fullmatch(
                r"arn:aws[-a-z0-9]*:s3vectors:[a-z0-9-]+:\d{12}:bucket/([^/]+)/index/(.+)", arn
            )
            if not found:
                raise _invalid("indexArn is not an index ARN")
            bucket, name = found.group(1), found.group(2)
        else:
            bucket, name = body.get("vectorBucketName"), body.get("indexName")
            if not bucket or not name:
                raise _invalid("give vectorBucketName and indexName, or indexArn")
        if bucket not in self.buckets:
            raise _not_found(f"The vector bucket {bucket} does not exist")
        if name not in self.buckets[bucket]:
            raise _not_found(f"The index {name} does not exist in {bucket}")
        return self.buckets[bucket][name]

    # Control plane -------------------------------------------------------------------------

    def create_vector_bucket(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("vectorBucketName", "")
        if not _NAME.fullmatch(name):
            raise _invalid("vectorBucketName: 3 to 63 lowercase letters, numbers and hyphens")
        if name in self.buckets:
            raise ServiceError(409, "ConflictException", f"The vector bucket {name} already exists")
        self.buckets[name] = {}
        return {"vectorBucketArn": f"arn:aws:s3vectors:us-east-1:{_ACCOUNT}:bucket/{name}"}

    def create_index(self, body: dict[str, Any]) -> dict[str, Any]:
        bucket, name = body.get("vectorBucketName", ""), body.get("indexName", "")
        if bucket not in self.buckets:
            raise _not_found(f"The vector bucket {bucket} does not exist")
        if not _INDEX_NAME.fullmatch(name):
            raise _invalid("indexName: 3 to 63 lowercase letters, numbers, hyphens and dots")
        dimension = body.get("dimension")
        if not isinstance(dimension, int) or not 1 <= dimension <= MAX_DIMENSION:
            raise _invalid(f"dimension must be 1 to {MAX_DIMENSION}")
        if body.get("dataType") != "float32":
            raise _invalid("dataType must be float32")
        if body.get("distanceMetric") not in ("cosine", "euclidean"):
            raise _invalid("distanceMetric must be cosine or euclidean")
        keys = (body.get("metadataConfiguration") or {}).get("nonFilterableMetadataKeys", [])
        if len(keys) > MAX_NON_FILTERABLE_KEYS:
            raise _invalid(f"at most {MAX_NON_FILTERABLE_KEYS} non-filterable metadata keys")
        if name in self.buckets[bucket]:
            raise ServiceError(409, "ConflictException", f"The index {name} already exists")
        index = Index(bucket, name, dimension, body["distanceMetric"], frozenset(keys), time.time())
        self.buckets[bucket][name] = index
        return {"indexArn": index.arn}

    def get_index(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self.index(body)
        return {
            "index": {
                "vectorBucketName": index.bucket,
                "indexName": index.name,
                "indexArn": index.arn,
                "creationTime": index.created,
                "dataType": "float32",
                "dimension": index.dimension,
                "distanceMetric": index.metric,
                "metadataConfiguration": {"nonFilterableMetadataKeys": sorted(index.non_filterable)},
                "indexMode": "ENHANCED",
            }
        }

    def delete_index(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self.index(body)
        del self.buckets[index.bucket][index.name]
        return {}

    # Data plane ----------------------------------------------------------------------------

    def put_vectors(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self.index(body)
        vectors = body.get("vectors")
        if not isinstance(vectors, list) or not 1 <= len(vectors) <= MAX_PUT:
            raise _invalid(f"vectors: 1 to {MAX_PUT} per request")
        checked: dict[str, tuple[Any, dict[str, Any]]] = {}
        for position, vector in enumerate(vectors):
            key = vector.get("key")
            if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY:
                raise _invalid(f"vectors[{position}].key: 1 to {MAX_KEY} characters")
            if key in checked:
                raise _invalid(f"vectors[{position}].key {key} appears twice in the request")
            data = _vector_data(vector.get("data"), index, f"vectors[{position}].data")
            metadata = vector.get("metadata") or {}
            _check_metadata(metadata, index, f"vectors[{position}].metadata")
            checked[key] = (data, metadata)
        index.vectors.update(checked)  # all or nothing: every vector was checked first
        index.changed()
        return {}

    def get_vectors(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self.index(body)
        keys = _keys(body, MAX_GET)
        found = []
        for key in keys:
            if key in index.vectors:
                data, metadata = index.vectors[key]
                item: dict[str, Any] = {"key": key}
                if body.get("returnData"):
                    item["data"] = {"float32": data.tolist()}
                if body.get("returnMetadata"):
                    item["metadata"] = metadata
                found.append(item)
        return {"vectors": found}

    def delete_vectors(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self.index(body)
        for key in _keys(body, MAX_DELETE):
            index.vectors.pop(key, None)
        index.changed()
        return {}

    def list_vectors(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self.index(body)
        size = body.get("maxResults", 500)
        if not isinstance(size, int) or not 1 <= size <= MAX_LIST:
            raise _invalid(f"maxResults: 1 to {MAX_LIST}")
        count, segment = body.get("segmentCount", 1), body.get("segmentIndex", 0)
        if not 1 <= count <= 16 or not 0 <= segment < count:
            raise _invalid("segmentIndex must be below segmentCount, which is 1 to 16")
        keys = sorted(index.vectors)[segment::count]
        start = int(base64.b64decode(body["nextToken"]).decode()) if body.get("nextToken") else 0
        page = keys[start : start + size]
        listed = []
        for key in page:
            data, metadata = index.vectors[key]
            item: dict[str, Any] = {"key": key}
            if body.get("returnData"):
                item["data"] = {"float32": data.tolist()}
            if body.get("returnMetadata"):
                item["metadata"] = metadata
            listed.append(item)
        answer: dict[str, Any] = {"vectors": listed}
        if start + size < len(keys):
            answer["nextToken"] = base64.b64encode(str(start + size).encode()).decode()
        return answer

    def query_vectors(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self.index(body)
        top_k = body.get("topK")
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise _invalid(f"topK: 1 to {MAX_TOP_K}")
        query = _vector_data(body.get("queryVector"), index, "queryVector")
        condition = body.get("filter")
        if condition is not None:
            _check_filter(condition, "filter")
        snapshot = index.snapshot()
        candidates = (
            numpy.flatnonzero(snapshot.mask(condition)) if condition else numpy.arange(len(snapshot.keys))
        )
        if not candidates.size:
            return {"vectors": [], "distanceMetric": index.metric}
        if index.metric == "cosine":  # over every vector, then the candidates: no copy of the matrix
            products = snapshot.matrix @ query
            distances = 1.0 - products[candidates] / (snapshot.norms[candidates] * numpy.linalg.norm(query))
        else:
            distances = numpy.linalg.norm(snapshot.matrix[candidates] - query, axis=1)
        best = (
            numpy.argpartition(distances, top_k - 1)[:top_k]
            if distances.size > top_k
            else numpy.arange(distances.size)
        )
        order = best[numpy.lexsort((candidates[best], distances[best]))]
        found = []
        for position in order:
            key, metadata = snapshot.keys[candidates[position]], snapshot.metadata[candidates[position]]
            item: dict[str, Any] = {"key": key}
            if body.get("returnDistance"):
                item["distance"] = float(distances[position])
            if body.get("returnMetadata"):
                item["metadata"] = metadata
            found.append(item)
        return {"vectors": found, "distanceMetric": index.metric}


def _keys(body: dict[str, Any], limit: int) -> list[str]:
    keys = body.get("keys")
    if not isinstance(keys, list) or not 1 <= len(keys) <= limit:
        raise _invalid(f"keys: 1 to {limit} per request")
    if not all(isinstance(k, str) and 1 <= len(k) <= MAX_KEY for k in keys):
        raise _invalid(f"keys: each 1 to {MAX_KEY} characters")
    return keys


def _vector_data(data: Any, index: Index, where: str) -> Any:
    values = data.get("float32") if isinstance(data, dict) else None
    if not isinstance(values, list) or len(values) != index.dimension:
        raise _invalid(f"{where}: {index.dimension} float32 values, the index's dimension")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        raise _invalid(f"{where}: every value must be a finite number")
    vector = numpy.asarray(values, dtype=numpy.float32)
    if index.metric == "cosine" and not vector.any():
        raise _invalid(f"{where}: a zero vector has no cosine distance")
    return vector


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _filterable(metadata: dict[str, Any], index: Index) -> dict[str, Any]:
    return {k: v for k, v in metadata.items() if k not in index.non_filterable}


def _check_metadata(metadata: Any, index: Index, where: str) -> None:
    if not isinstance(metadata, dict):
        raise _invalid(f"{where} must be an object")
    if len(metadata) > MAX_METADATA_KEYS:
        raise _invalid(f"{where}: {len(metadata)} keys; at most {MAX_METADATA_KEYS} per vector")
    for key, value in metadata.items():
        if not _metadata_value(value):
            raise _invalid(f"{where}.{key}: a string, number, boolean or a list of them")
    if _size(metadata) > MAX_METADATA_BYTES:
        raise _invalid(f"{where}: {_size(metadata)} bytes; at most {MAX_METADATA_BYTES} per vector")
    filterable = _filterable(metadata, index)
    if _size(filterable) > MAX_FILTERABLE_BYTES:
        raise _invalid(
            f"{where}: {_size(filterable)} bytes of filterable metadata; "
            f"at most {MAX_FILTERABLE_BYTES} per vector"
        )


def _metadata_value(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, str | int | float | bool) for v in value)
    return isinstance(value, str | bool) or (isinstance(value, int | float) and math.isfinite(value))


def _primitive(value: Any) -> bool:
    return isinstance(value, str | bool) or (isinstance(value, int | float) and math.isfinite(value))


def _check_filter(condition: Any, where: str) -> None:
    if not isinstance(condition, dict) or not condition:
        raise _invalid(f"{where} must be a non-empty object")
    for key, value in condition.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise _invalid(f"{where}.{key} must be a non-empty array of filters")
            for n, part in enumerate(value):
                _check_filter(part, f"{where}.{key}[{n}]")
        elif key.startswith("$"):
            raise _invalid(f"{where}: unknown operator {key}")
        elif isinstance(value, dict):
            if not value:
                raise _invalid(f"{where}.{key} has no operator")
            for op, operand in value.items():
                _check_operator(op, operand, f"{where}.{key}")
        elif not _primitive(value):
            raise _invalid(f"{where}.{key} must be a string, number or boolean")


def _check_operator(op: str, operand: Any, where: str) -> None:
    if op in ("$eq", "$ne"):
        valid = _primitive(operand)
    elif op in _COMPARISONS:
        valid = isinstance(operand, int | float) and not isinstance(operand, bool) and math.isfinite(operand)
    elif op in ("$in", "$nin"):
        valid = isinstance(operand, list) and bool(operand) and all(_primitive(v) for v in operand)
    elif op == "$exists":
        valid = isinstance(operand, bool)
    else:
        raise _invalid(f"{where}: unknown operator {op}")
    if not valid:
        raise _invalid(f"{where}.{op}: an operand of the wrong type")


def _same(stored: Any, wanted: Any) -> bool:
    """Equal, and of the same JSON type (a number never equals a string or a boolean)."""
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored == wanted
    if isinstance(stored, str) or isinstance(wanted, str):
        return isinstance(stored, str) and isinstance(wanted, str) and stored == wanted
    return bool(stored == wanted)


_OPERATIONS = {
    "/CreateVectorBucket": S3VectorsState.create_vector_bucket,
    "/CreateIndex": S3VectorsState.create_index,
    "/GetIndex": S3VectorsState.get_index,
    "/DeleteIndex": S3VectorsState.delete_index,
    "/PutVectors": S3VectorsState.put_vectors,
    "/GetVectors": S3VectorsState.get_vectors,
    "/DeleteVectors": S3VectorsState.delete_vectors,
    "/ListVectors": S3VectorsState.list_vectors,
    "/QueryVectors": S3VectorsState.query_vectors,
}


class S3VectorsServer:
    """The endpoint on 127.0.0.1 in a thread of this process (`url`), or on its own (`main`)."""

    def __init__(self, port: int = 0) -> None:
        self.state = S3VectorsState()
        self.faults = Faults()
        handler = type("Handler", (_Handler,), {"server_state": self.state, "owner": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="s3vectors", daemon=True)
        self._thread.start()

    def client(self) -> Any:
        """boto3's own s3vectors client, signed with local credentials, pointed here."""
        import boto3

        return boto3.client(
            "s3vectors",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    server_state: S3VectorsState
    owner: S3VectorsServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        try:
            if not self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256"):
                raise ServiceError(403, "AccessDeniedException", "The request is not signed (SigV4)")
            operation = _OPERATIONS.get(self.path.split("?")[0])
            if operation is None:
                raise ServiceError(404, "UnknownOperationException", f"No operation at {self.path}")
            faults = self.owner.faults
            faults.calls.append(self.path.strip("/"))
            if faults.delay:
                time.sleep(faults.delay)
            if faults.fail:
                status, kind = faults.fail.pop(0)
                if status:
                    raise ServiceError(status, kind, "Injected by the test")
            if length > MAX_BODY:
                raise _invalid(f"The request body is {length} bytes; at most {MAX_BODY}")
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                raise _invalid("The request body is not JSON") from None
            with self.server_state.lock:
                answer = operation(self.server_state, request)
            self._send(200, answer)
        except ServiceError as error:
            self._send(error.status, {"message": error.message}, error.kind)

    def _send(self, status: int, payload: dict[str, Any], kind: str | None = None) -> None:
        data = json.dumps(payload, default=_json_default).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if kind:
            self.send_header("x-amzn-ErrorType", kind)
        self.end_headers()
        self.wfile.write(data)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).timestamp()
    raise TypeError(type(value).__name__)


def main() -> None:
    """`python -m local.s3vectors_server --port N`: the endpoint until interrupted (make dev)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    server = S3VectorsServer(parser.parse_args().port)
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
