"""A local HTTP server that speaks Amazon Bedrock's `Rerank` (bedrock-agent-runtime, `POST /rerank`)
as boto3 calls it, shaped by the Bedrock Agent Runtime API reference (Rerank, RerankSource,
RerankResult) and its documented limits: one query, 1 to 1,000 sources, each text 1 to 32,000
characters, `numberOfResults` 1 to 1,000 and at most the sources, a model ARN of a rerank model
in a region that serves it (Amazon Rerank 1.0 is not in us-east-1). It refuses the rest as AWS
does (400 ValidationException, 403 for an unsigned request), and plays slowness and throttling.
Relevance here is the share of the query's words a document holds (deterministic, not a model)."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from parley.rag.rerank import RERANK_MODELS

_SIGNATURE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/bedrock/aws4_request, "
)
_MODEL_ARN = re.compile(r"^arn:aws:bedrock:(?P<region>[a-z0-9-]+)::foundation-model/(?P<model>.+)$")
_WORDS = re.compile(r"\w+")


@dataclass
class RerankFaults:
    delay: float = 0.0  # seconds before answering
    status: int = 200  # 429: ThrottlingException, 500: InternalServerException
    calls: list[dict[str, Any]] = field(default_factory=list)


class RerankServer:
    def __init__(self) -> None:
        self.faults = RerankFaults()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, kind, body = server.answer(self.path, dict(self.headers.items()), raw)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    if kind:
                        self.send_header("x-amzn-ErrorType", kind)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a deadline test)

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, str | None, dict[str, Any]]:
        lowered = {k.lower(): v for k, v in headers.items()}
        signed = _SIGNATURE.match(lowered.get("authorization", ""))
        if not signed:
            return (
                403,
                "UnrecognizedClientException",
                {"message": "The security token included in the request is invalid."},
            )
        if path.split("?", 1)[0] != "/rerank":
            return 404, "UnknownOperationException", {"message": f"no route {path}"}
        body = json.loads(raw or b"{}")
        self.faults.calls.append(body)
        if self.faults.delay:
            time.sleep(self.faults.delay)
        if self.faults.status == 429:
            return 429, "ThrottlingException", {"message": "Rate exceeded"}
        if self.faults.status >= 500:
            return self.faults.status, "InternalServerException", {"message": "Internal error"}
        problem = rerank_problem(body, signed["region"])
        if problem is not None:
            return 400, "ValidationException", {"message": problem}
        return 200, None, {"results": ranked(body)}


def rerank_problem(body: dict[str, Any], region: str) -> str | None:
    queries, sources = body.get("queries") or [], body.get("sources") or []
    if len(queries) != 1 or not 1 <= len(queries[0].get("textQuery", {}).get("text", "")) <= 32_000:
        return "queries must hold exactly one text query of 1 to 32000 characters"
    if not 1 <= len(sources) <= 1000:
        return "sources must hold 1 to 1000 documents"
    for source in sources:
        text = source.get("inlineDocumentSource", {}).get("textDocument", {}).get("text", "")
        if source.get("type") != "INLINE" or not 1 <= len(text) <= 32_000:
            return "each source is an INLINE text document of 1 to 32000 characters"
    configuration = (body.get("rerankingConfiguration") or {}).get("bedrockRerankingConfiguration") or {}
    wanted = configuration.get("numberOfResults", len(sources))
    if not 1 <= wanted <= min(1000, len(sources)):
        return "numberOfResults must be between 1 and the number of sources"
    arn = _MODEL_ARN.match((configuration.get("modelConfiguration") or {}).get("modelArn", ""))
    if arn is None or arn["model"] not in RERANK_MODELS:
        return "The provided model identifier is invalid."
    if arn["region"] != region or region not in RERANK_MODELS[arn["model"]].regions:
        return f"{arn['model']} is not supported in {region}."
    return None


def ranked(body: dict[str, Any]) -> list[dict[str, Any]]:
    asked = set(_WORDS.findall(body["queries"][0]["textQuery"]["text"].lower()))
    scored = []
    for index, source in enumerate(body["sources"]):
        words = set(_WORDS.findall(source["inlineDocumentSource"]["textDocument"]["text"].lower()))
        scored.append((len(asked & words) / max(len(asked), 1), -index, index))
    wanted = body["rerankingConfiguration"]["bedrockRerankingConfiguration"].get(
        "numberOfResults", len(scored)
    )
    return [
        {"index": index, "relevanceScore": round(score, 6)}
        for score, _, index in sorted(scored, reverse=True)[:wanted]
    ]
