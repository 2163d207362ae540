"""Files: PDF pages parsed per second (pypdf, in this process), and the seconds from the upload of
a 50-page PDF to its document being `ready`, through the local gateway, moto's S3 and SQS, the
poller and the worker function (parse, chunk, embed with the default local model, index)."""

from __future__ import annotations

import os
import time

import httpx

from bench.report import Report
from local.dynamodb import free_port
from local.files_stack import WORKER, FilesStack
from local.gateway import LocalServer
from local.token import mint
from parley.rag.parsing import parse
from tests.doubles.documents import pdf

PAGES = 50
WORDS = [
    "policy",
    "travel",
    "expense",
    "receipt",
    "manager",
    "leave",
    "office",
    "budget",
    "approval",
    "report",
]


def _pages(count: int) -> list[str]:
    return [
        "\n".join(" ".join(WORDS[(page + line + n) % len(WORDS)] for n in range(12)) for line in range(40))
        for page in range(count)
    ]


def run(report: Report) -> None:
    document = pdf(_pages(PAGES), title="Bench handbook")
    started = time.perf_counter()
    for _ in range(5):
        parsed = parse(document, "application/pdf")
    elapsed = (time.perf_counter() - started) / 5
    report.figure("files.pdf_pages_parsed_per_second", len(parsed.pages) / elapsed, "pages/s", pages=PAGES)

    files = FilesStack(os.environ.get("AWS_REGION", "us-east-1")).start()
    os.environ.update(files.environment())
    server = LocalServer(free_port()).start()
    files.poll(server.gateway.pools[WORKER])
    try:
        headers = {"Authorization": f"Bearer {mint('bench-files', brands=['acme'])}"}
        with httpx.Client(base_url=server.url, timeout=60) as http:
            started = time.perf_counter()
            accepted = http.post(
                "/v1/ai/files",
                json={
                    "brand_id": "acme",
                    "rag_scope": "bench-files",
                    "filename": "handbook.pdf",
                    "content_type": "application/pdf",
                    "size": len(document),
                },
                headers=headers,
            ).json()
            httpx.put(accepted["upload"]["url"], content=document, headers=accepted["upload"]["headers"])
            status: dict[str, object] = {}
            for _ in range(3000):
                status = http.get(
                    f"/v1/ai/documents/{accepted['document_id']}",
                    params={"brand_id": "acme", "rag_scope": "bench-files"},
                    headers=headers,
                ).json()
                if status["status"] in ("ready", "failed"):
                    break
                time.sleep(0.05)
            seconds = time.perf_counter() - started
    finally:
        server.stop()
        files.stop()
    report.figure(
        "files.upload_to_ready_seconds",
        seconds,
        "s",
        pages=PAGES,
        bytes=len(document),
        status=status.get("status"),
        chunks=status.get("chunks"),
        note="includes the worker container's cold start and loading the embedding model",
    )
