"""A local HTTP server standing in for OpenSearch in tests: it checks each request the adapter
sends against the documented format (index mapping, NDJSON `_bulk`, the k-NN query with its
filter inside the `knn` clause, filtered searches with `search_after`) and answers with the
documented response shapes. k-NN search is exact here, scored `(2 - d) / 2` for cosinesimil.

Near-real-time, as OpenSearch is: an index or delete takes effect at once for requests by id
(a `_bulk` delete finds a document indexed a moment ago), but searches see the index as of its
last refresh. OpenSearch refreshes every `index.refresh_interval`, one second by default
(OpenSearch docs, "Refresh Index API": "refreshes occur every second"); `refresh_interval=None`
refreshes only when a test calls `refresh()`, standing for that second passing.

As an OpenSearch Serverless vector search collection, it gives every document its own id and
refuses a custom `_id` in an index action (AWS, Migration Assistant for Amazon OpenSearch Service,
"Collection types": VECTORSEARCH collections use server-generated IDs)."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class BadRequest(Exception):
    """The adapter sent something OpenSearch would refuse."""


@dataclass
class Index:
    mapping: dict[str, Any]
    dimension: int
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # as of the last write
    visible: dict[str, dict[str, Any]] = field(default_factory=dict)  # as of the last refresh


@dataclass(frozen=True)
class SigningKey:
    """The credentials, region and service a signed request must have been signed with."""

    access_key: str
    secret_key: str
    region: str = "us-east-1"
    service: str = "aoss"


class FakeOpenSearch:
    def __init__(
        self,
        signing: SigningKey | None = None,
        version: tuple[int, int] = (2, 17),
        refresh_interval: float | None = 1.0,
    ) -> None:
        self.signing = signing
        # OpenSearch Serverless collections run OpenSearch 2.17 (AWS: "What is Amazon OpenSearch
        # Serverless?"); what the k-NN plugin accepts depends on it.
        self.version = version
        self.indices: dict[str, Index] = {}
        self.requests: list[tuple[str, str, Any]] = []
        # Per-item refusals of the next _bulk requests, by action position: (status, error type),
        # as OpenSearch answers a bulk whose items fail (a 200 with `errors: true`).
        self.item_rejections: deque[dict[int, tuple[int, str]]] = deque()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                raw = body.decode()
                if fake.signing is not None and (problem := fake.signature_problem(self, body)):
                    data = json.dumps({"message": problem}).encode()
                    self.send_response(403)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                try:
                    status, payload = fake.handle(
                        self.command, self.path, raw, self.headers.get("Content-Type", "")
                    )
                except BadRequest as error:
                    status, payload = (
                        400,
                        {"error": {"type": "parsing_exception", "reason": str(error)}, "status": 400},
                    )
                data = b"" if self.command == "HEAD" else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve  # noqa: N815

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self._stopped = threading.Event()
        if refresh_interval is not None:
            threading.Thread(target=self._refresh_every, args=(refresh_interval,), daemon=True).start()

    def refresh(self) -> None:
        """Make every write so far visible to searches."""
        with self._lock:
            for index in self.indices.values():
                index.visible = dict(index.documents)

    def _refresh_every(self, seconds: float) -> None:
        while not self._stopped.wait(seconds):
            self.refresh()

    def _match(
        self, name: str, index: Index, clause: dict[str, Any], body: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """A bool query whose `must` is one `match`, or one `multi_match` of type most_fields (the
        fields' BM25 summed, each times its `^boost`), and whose `filter` restricts the hits, as
        OpenSearch scores them (stemming aside: this stand-in only lower-cases)."""
        must = clause.get("must") or [{}]
        if set(clause) - {"must", "filter"} or len(must) != 1 or not {"match", "multi_match"} & set(must[0]):
            raise BadRequest("expected bool with one match or multi_match in must, and filters")
        if "multi_match" in must[0]:
            query = must[0]["multi_match"]
            if query.get("type", "best_fields") != "most_fields" or not isinstance(query.get("query"), str):
                raise BadRequest("expected a most_fields multi_match with a string query")
            fields = [(f.split("^")[0], float(f.split("^")[1]) if "^" in f else 1.0) for f in query["fields"]]
            text = query["query"]
        else:
            ((fieldname, text),) = must[0]["match"].items()
            if not isinstance(text, str):
                raise BadRequest("[match] query expects a string")
            fields = [(fieldname, 1.0)]
        totals: dict[str, float] = {}
        for fieldname, boost in fields:
            for i, score in self._bm25_field(index, fieldname, text, clause).items():
                totals[i] = totals.get(i, 0.0) + boost * score
        visible = dict(index.visible)
        ranked = sorted(((score, i) for i, score in totals.items() if score > 0), key=lambda t: -t[0])
        return [
            {"_index": name, "_id": i, "_score": score, "_source": _source(visible[i], body)}
            for score, i in ranked[: body.get("size", 10)]
        ]

    def _bm25_field(
        self, index: Index, fieldname: str, text: str, clause: dict[str, Any]
    ) -> dict[str, float]:
        documents = list(index.visible.items())
        average = sum(len(_TOKENS.findall(str(d.get(fieldname) or ""))) for _, d in documents) / max(
            1, len(documents)
        )
        frequencies: dict[str, int] = {}
        for term in set(_TOKENS.findall(text.lower())):
            frequencies[term] = sum(
                term in _TOKENS.findall(str(d.get(fieldname) or "").lower()) for _, d in documents
            )
        filters = {"bool": {"filter": clause.get("filter", [])}}
        scored = [
            (_bm25(text, str(d.get(fieldname) or ""), frequencies, len(documents), average or 1.0), i, d)
            for i, d in documents
            if _matches(d, filters)
        ]
        return {i: score for score, i, _ in scored}

    def signature_problem(self, request: BaseHTTPRequestHandler, body: bytes) -> str | None:
        """Why the request's SigV4 signature is not the one its credentials make (None: it is),
        recomputed with botocore's signer as AWS does: every signed header, the payload hash
        (which Amazon OpenSearch Serverless requires as X-Amz-Content-SHA256), the date."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        assert self.signing is not None
        authorization = request.headers.get("Authorization") or ""
        fields = dict(
            part.strip().split("=", 1)
            for part in authorization.removeprefix("AWS4-HMAC-SHA256 ").split(",")
            if "=" in part
        )
        scope = fields.get("Credential", "").split("/")
        if not authorization.startswith("AWS4-HMAC-SHA256 ") or len(scope) != 5:
            return "Authorization header requires a SigV4 signature."
        access_key, _, region, service, _ = scope
        if (access_key, region, service) != (
            self.signing.access_key,
            self.signing.region,
            self.signing.service,
        ):
            return f"Credential scope {access_key}/{region}/{service} is not this collection's."
        payload_hash = request.headers.get("X-Amz-Content-SHA256")
        if payload_hash != hashlib.sha256(body).hexdigest():
            return "X-Amz-Content-SHA256 is missing or does not match the body."
        signed = fields.get("SignedHeaders", "").split(";")
        headers = {name: request.headers.get(name, "") for name in signed}
        aws_request = AWSRequest(
            method=request.command,
            url=f"http://{request.headers.get('Host')}{request.path}",
            data=body,
            headers=headers,
        )
        aws_request.context["timestamp"] = request.headers.get("X-Amz-Date", "")
        signer = SigV4Auth(Credentials(self.signing.access_key, self.signing.secret_key), service, region)
        canonical = signer.canonical_request(aws_request)
        expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        if not hmac.compare_digest(expected, fields.get("Signature", "")):
            return "The request signature we calculated does not match the signature you provided."
        return None

    def stop(self) -> None:
        self._stopped.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests_to(self, method: str, suffix: str) -> list[Any]:
        return [
            body
            for m, path, body in self.requests
            if m == method and path.split("?", maxsplit=1)[0].endswith(suffix)
        ]

    def handle(self, method: str, path: str, raw: str, content_type: str) -> tuple[int, Any]:
        with self._lock:
            route = path.split("?", maxsplit=1)[0].strip("/")
            if route == "_bulk" and method in ("POST", "PUT"):
                self.requests.append((method, path, raw))
                return 200, self._bulk(raw, content_type)
            body = json.loads(raw) if raw else None
            self.requests.append((method, path, body))
            name, _, action = route.partition("/")
            if not action and method == "HEAD":
                return (200 if name in self.indices else 404), {}
            if not action and method == "PUT":
                return self._create(name, body)
            if action == "_search" and method in ("GET", "POST"):
                if name not in self.indices:  # OpenSearch answers a missing index with a 404
                    return 404, _error(404, "index_not_found_exception", f"no such index [{name}]")
                return 200, self._search(name, body or {"query": {"match_all": {}}})
            raise BadRequest(f"unexpected {method} {path}")

    def _create(self, name: str, body: Any) -> tuple[int, Any]:
        if name in self.indices:
            return 400, _error(400, "resource_already_exists_exception", f"index [{name}] already exists")
        if body["settings"]["index"]["knn"] is not True:
            raise BadRequest("index.knn must be true for a knn_vector field")
        properties = body["mappings"]["properties"]
        vectors = [(n, p) for n, p in properties.items() if p.get("type") == "knn_vector"]
        if len(vectors) != 1:
            raise BadRequest("expected one knn_vector field")
        _, vector = vectors[0]
        method = vector["method"]
        if (
            method["name"] != "hnsw"
            or method["engine"] not in ("lucene", "faiss")
            or method["space_type"] != "cosinesimil"
        ):
            raise BadRequest(f"unsupported method {method}")
        # The faiss engine supports cosinesimil from k-NN 2.19 (OpenSearch k-NN docs, "Methods
        # and engines"); before that, OpenSearch refuses the mapping.
        if method["engine"] == "faiss" and self.version < (2, 19):
            raise BadRequest(
                "Validation Failed: 1: engine [faiss] does not support space type [cosinesimil];"
            )
        unknown = set(method) - {"name", "engine", "space_type", "parameters"}
        if unknown:
            raise BadRequest(f"method has unknown parameters {sorted(unknown)}")
        for keyword in ("brand_id", "rag_scope", "document_id"):
            if properties.get(keyword, {}).get("type") != "keyword":
                raise BadRequest(f"{keyword} must be a keyword field (exact-match filters)")
        self.indices[name] = Index(body, int(vector["dimension"]))
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}

    def _bulk(self, raw: str, content_type: str) -> dict[str, Any]:
        if not raw.endswith("\n"):
            raise BadRequest("the bulk request must be terminated by a newline [\\n]")
        if "json" not in content_type:
            raise BadRequest(f"bulk Content-Type {content_type!r}")
        lines = raw.rstrip("\n").split("\n")
        items, position = [], 0
        rejections = self.item_rejections.popleft() if self.item_rejections else {}
        while position < len(lines):
            action = json.loads(lines[position])
            ((kind, meta),) = action.items()
            index = self.indices.get(meta["_index"])
            if index is None:
                raise BadRequest(f"no such index [{meta['_index']}]")
            refusal = rejections.get(len(items))
            if kind == "index":
                document = json.loads(lines[position + 1])
                # OpenSearch refuses the item, not the request.
                if refusal is None and "_id" in meta:
                    refusal = (400, "illegal_argument_exception")  # no custom ids (see above)
                if refusal is None and len(document["embedding"]) != index.dimension:
                    refusal = (400, "mapper_parsing_exception")
            if refusal is not None:
                status, error_type = refusal
                items.append(
                    {
                        kind: {
                            "_index": meta["_index"],
                            "status": status,
                            "error": {"type": error_type, "reason": "refused"},
                        }
                    }
                )
                position += 2 if kind == "index" else 1
                continue
            if kind == "index":
                identifier = uuid.uuid4().hex[:20]
                index.documents[identifier] = document
                items.append(
                    {
                        "index": {
                            "_index": meta["_index"],
                            "_id": identifier,
                            "_version": 1,
                            "result": "created",
                            "status": 201,
                        }
                    }
                )
                position += 2
            elif kind == "delete":
                found = index.documents.pop(meta["_id"], None)
                items.append(
                    {
                        "delete": {
                            "_index": meta["_index"],
                            "_id": meta["_id"],
                            "result": "deleted" if found else "not_found",
                            "status": 200 if found else 404,
                        }
                    }
                )
                position += 1
            else:
                raise BadRequest(f"unexpected bulk action {kind}")
        errors = any("error" in next(iter(item.values())) for item in items)
        return {"took": 3, "errors": errors, "items": items}

    def _search(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        index = self.indices.get(name)
        if index is None:
            raise BadRequest(f"no such index [{name}]")
        # OpenSearch refuses what it does not know: "Unknown key for a START_OBJECT in [...]".
        unknown = set(body) - {"size", "_source", "query", "sort", "search_after", "track_total_hits"}
        if unknown:
            raise BadRequest(f"Unknown key for a START_OBJECT in [{sorted(unknown)[0]}].")
        query = body["query"]
        if "knn" in query:
            ((fieldname, knn),) = query["knn"].items()
            if set(knn) - {"vector", "k", "filter"}:
                raise BadRequest(f"[knn] unknown field {sorted(set(knn) - {'vector', 'k', 'filter'})[0]}")
            vector, k = knn["vector"], knn["k"]
            if len(vector) != index.dimension or not isinstance(k, int) or k < 1:
                raise BadRequest("knn needs a vector of the field's dimension and k >= 1")
            candidates = [(i, d) for i, d in index.visible.items() if _matches(d, knn.get("filter"))]
            scored = sorted(
                ((_score(vector, d[fieldname]), i, d) for i, d in candidates), key=lambda t: -t[0]
            )
            hits: list[dict[str, Any]] = [
                {"_index": name, "_id": i, "_score": s, "_source": _source(d, body)}
                for s, i, d in scored[: min(k, body.get("size", 10))]
            ]
        elif "bool" in query and query["bool"].get("must"):
            hits = self._match(name, index, query["bool"], body)
        else:
            matched = [(i, d) for i, d in index.visible.items() if _matches(d, query)]
            keys = [next(iter(s)) for s in body.get("sort", [])]
            matched.sort(key=lambda pair: [pair[1].get(key) for key in keys])
            if "search_after" in body:
                matched = [(i, d) for i, d in matched if [d.get(key) for key in keys] > body["search_after"]]
            hits = [
                {
                    "_index": name,
                    "_id": i,
                    "_score": None,
                    "sort": [d.get(key) for key in keys],
                    **({"_source": _source(d, body)} if body.get("_source") is not False else {}),
                }
                for i, d in matched[: body.get("size", 10)]
            ]
        return {
            "took": 2,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {
                "total": {"value": len(hits), "relation": "eq"},
                "max_score": max((float(h["_score"] or 0) for h in hits), default=None),
                "hits": hits,
            },
        }


_TOKENS = re.compile(r"\w+")


def _bm25(text: str, document: str, frequencies: dict[str, int], count: int, average: float) -> float:
    """Okapi BM25 (k1 1.2, b 0.75: OpenSearch's defaults) of a `match` query's terms, OR-ed."""
    words = _TOKENS.findall(document.lower())
    score = 0.0
    for term in set(_TOKENS.findall(text.lower())):
        tf = words.count(term)
        if tf:
            idf = math.log(1 + (count - frequencies[term] + 0.5) / (frequencies[term] + 0.5))
            score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(words) / average))
    return score


def _error(status: int, kind: str, reason: str) -> dict[str, Any]:
    """OpenSearch's error body shape: `error` with its `type`, `reason` and `root_cause`."""
    cause = {"type": kind, "reason": reason}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


def _score(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return (2 - (1 - dot / norms)) / 2


def _source(document: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    excluded = (
        set((body.get("_source") or {}).get("excludes", []))
        if isinstance(body.get("_source"), dict)
        else set()
    )
    return {k: v for k, v in document.items() if k not in excluded}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(document: dict[str, Any], clause: dict[str, Any] | None) -> bool:
    """The few query clauses the adapter uses: bool (filter, must_not, should), term, exists, range."""
    if not clause:
        return True
    ((kind, spec),) = clause.items()
    if kind == "bool":
        ok = all(_matches(document, c) for c in _as_list(spec.get("filter", [])))
        ok = ok and not any(_matches(document, c) for c in _as_list(spec.get("must_not", [])))
        should = _as_list(spec.get("should", []))
        if should:
            ok = ok and sum(_matches(document, c) for c in should) >= spec.get("minimum_should_match", 1)
        return ok
    if kind == "term":
        ((name, value),) = spec.items()
        return bool(document.get(name) == value)
    if kind == "match_all":
        return True
    if kind == "exists":
        return document.get(spec["field"]) is not None
    if kind == "range":
        ((name, bounds),) = spec.items()
        value = document.get(name)
        if value is None:
            return False
        moment = datetime.fromisoformat(value)
        ((operator, bound),) = bounds.items()
        limit = datetime.now(UTC) if bound == "now" else datetime.fromisoformat(bound)
        return moment > limit if operator == "gt" else moment <= limit
    raise BadRequest(f"unsupported query clause {kind}")
