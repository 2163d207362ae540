"""`make ingest BRAND=acme SCOPE=docs FILES="docs/*.md"`: send files to a running Parley. Text and
Markdown go to POST /v1/ai/documents a batch at a time; PDF, Word, HTML and any other file go
through the upload flow (POST /v1/ai/files, a PUT to the presigned URL, then the document's
status until it is ready or failed), with progress for many files. Each file's path is its
document id, so ingesting a file again replaces its chunks."""

from __future__ import annotations

import argparse
import glob
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from local.settings import DEV_PORT_FILE
from local.token import mint

MAX_BATCH_DOCUMENTS = 50
MAX_BATCH_BYTES = 4 * 1024 * 1024
_HEADING = re.compile(r"^#\s+(.+)$", re.MULTILINE)


TEXT_SUFFIXES = (".md", ".markdown", ".txt")
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".html": "text/html",
    ".htm": "text/html",
}


def identifier_for(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._:-]", "-", relative(path).as_posix().replace("/", ":"))[:128]


def document_for(path: Path, brand: str, scope: str) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    heading = _HEADING.search(text)
    identifier = identifier_for(path)
    return {
        "brand_id": brand,
        "rag_scope": scope,
        "document_id": identifier,
        "title": heading.group(1).strip() if heading else path.name,
        "content": text,
        "metadata": {"path": path.as_posix()},
    }


def relative(path: Path) -> Path:
    """The path as the developer named it from the working directory; never an absolute one."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return Path(path.name)


def batches(documents: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    grouped: list[list[dict[str, Any]]] = [[]]
    size = 0
    for document in documents:
        length = len(document["content"].encode())
        if grouped[-1] and (len(grouped[-1]) == MAX_BATCH_DOCUMENTS or size + length > MAX_BATCH_BYTES):
            grouped.append([])
            size = 0
        grouped[-1].append(document)
        size += length
    return [batch for batch in grouped if batch]


class Refused(Exception):
    """The API refused a request: its status and body, as sent."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body}")
        self.status, self.body = status, body


def ingest(
    api: str, token: str, paths: list[Path], brand: str, scope: str
) -> tuple[list[dict[str, Any]], list[Path]]:
    """The documents ingested at once, and the files a request's deadline cannot hold (a batch
    refused as too large is sent again in halves; a document too large alone is left to the
    upload flow, which ingests in the background)."""
    by_id = {identifier_for(path): path for path in paths}
    documents = [
        document_for(path, brand, scope) for path in paths if path.read_text(encoding="utf-8").strip()
    ]
    results: list[dict[str, Any]] = []
    too_large: list[Path] = []
    pending = batches(documents)
    while pending:
        batch = pending.pop(0)
        request = urllib.request.Request(
            f"{api.rstrip('/')}/v1/ai/documents",
            data=json.dumps({"documents": batch}).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                results += json.loads(response.read())["documents"]
        except urllib.error.HTTPError as error:
            body = error.read().decode()
            if error.code != 413 or "batch_too_large" not in body:
                raise Refused(error.code, body) from None
            if len(batch) == 1:
                too_large.append(by_id[batch[0]["document_id"]])
            else:
                pending[:0] = [batch[: len(batch) // 2], batch[len(batch) // 2 :]]
    return results, too_large


def _call(
    method: str, url: str, token: str | None, body: Any = None, headers: dict[str, str] | None = None
) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body is not None and not isinstance(body, bytes):
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=120) as response:
        payload = response.read()
    return json.loads(payload) if payload and not isinstance(body, bytes) else None


def upload(
    api: str, token: str, paths: list[Path], brand: str, scope: str, *, wait_seconds: float = 600
) -> list[dict[str, Any]]:
    """Upload each file, then wait for all of them to be ready or failed, printing progress."""
    api = api.rstrip("/")
    pending: dict[str, Path] = {}
    for number, path in enumerate(paths, 1):
        data = path.read_bytes()
        accepted = _call(
            "POST",
            f"{api}/v1/ai/files",
            token,
            {
                "brand_id": brand,
                "rag_scope": scope,
                "document_id": identifier_for(path),
                "filename": path.name,
                "content_type": CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream"),
                "size": len(data),
                "metadata": {"path": relative(path).as_posix()},
            },
        )
        upload = accepted["upload"]
        _call(upload["method"], upload["url"], None, data, upload["headers"])
        pending[accepted["document_id"]] = path
        print(f"[{number}/{len(paths)}] {path.name}: uploaded ({len(data):,} bytes)", flush=True)
    settled: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait_seconds
    while pending and time.monotonic() < deadline:
        for document_id, path in list(pending.items()):
            query = urllib.parse.urlencode({"brand_id": brand, "rag_scope": scope})
            status = _call(
                "GET", f"{api}/v1/ai/documents/{urllib.parse.quote(document_id, safe='')}?{query}", token
            )
            if status["status"] in ("ready", "failed"):
                del pending[document_id]
                settled.append(status)
                detail = f"{status['chunks']} chunk(s)" + (
                    f", {status['pages']} page(s)" if status.get("pages") else ""
                )
                outcome = detail if status["status"] == "ready" else status.get("error")
                print(
                    f"[{len(settled)}/{len(paths)}] {path.name}: {status['status']} ({outcome})", flush=True
                )
        time.sleep(0.5)
    for path in pending.values():
        print(f"{path.name}: still processing after {wait_seconds:.0f} s", file=sys.stderr)
    return settled


def running_api() -> str:
    """The address the running `make dev` listens on (it writes its port down), else the default."""
    try:
        return f"http://127.0.0.1:{int(DEV_PORT_FILE.read_text())}"
    except (OSError, ValueError):
        return "http://127.0.0.1:3000"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Ingest files into Parley's RAG store through the API.")
    parser.add_argument("--api", default=None, help="default: the running make dev's address")
    parser.add_argument("--brand", required=True)
    parser.add_argument("--scope", required=True)
    parser.add_argument("--sub", default="dev-user")
    parser.add_argument("files", nargs="+", help="paths or glob patterns")
    args = parser.parse_args(argv)
    args.api = args.api or running_api()
    paths = sorted(
        {Path(p) for pattern in args.files for p in (glob.glob(pattern, recursive=True) or [pattern])}
    )
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print(f"not a file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    token = mint(args.sub, [args.brand], ["ai:ingest"])
    texts = [p for p in paths if p.suffix.lower() in TEXT_SUFFIXES]
    files = [p for p in paths if p.suffix.lower() not in TEXT_SUFFIXES]
    try:
        results, too_large = ingest(args.api, token, texts, args.brand, args.scope) if texts else ([], [])
        files += too_large  # what one request cannot embed in time goes through the upload flow
        uploaded = upload(args.api, token, files, args.brand, args.scope) if files else []
    except Refused as refusal:
        print(str(refusal), file=sys.stderr)
        return 1
    except urllib.error.HTTPError as error:
        print(f"{error.code}: {error.read().decode()}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(
            f"Nothing answers at {args.api} ({error.reason}): start Parley with `make dev`, "
            "or name where it runs with PORT=...",
            file=sys.stderr,
        )
        return 1
    for result in results:
        print(f"{result['document_id']}: {result['chunks']} chunk(s)")
    failed = [u for u in uploaded if u["status"] == "failed"]
    print(
        f"{len(results) + len(uploaded) - len(failed)} document(s) ingested into brand {args.brand}, "
        f"scope {args.scope}" + (f"; {len(failed)} failed." if failed else ".")
    )
    return 1 if failed or len(uploaded) < len(files) else 0


if __name__ == "__main__":
    sys.exit(main())
