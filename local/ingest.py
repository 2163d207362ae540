"""`make ingest BRAND=acme SCOPE=docs FILES="docs/*.md"`: send files to a running Parley's
POST /v1/ai/documents, a batch at a time. Each file's path is its document id, so ingesting a
file again replaces its chunks."""

from __future__ import annotations

import argparse
import glob
import json
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from local.token import mint

MAX_BATCH_DOCUMENTS = 50
MAX_BATCH_BYTES = 4 * 1024 * 1024
_HEADING = re.compile(r"^#\s+(.+)$", re.MULTILINE)


def document_for(path: Path, brand: str, scope: str) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    heading = _HEADING.search(text)
    identifier = re.sub(r"[^A-Za-z0-9._:-]", "-", relative(path).as_posix().replace("/", ":"))[:128]
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


def ingest(api: str, token: str, paths: list[Path], brand: str, scope: str) -> list[dict[str, Any]]:
    documents = [
        document_for(path, brand, scope) for path in paths if path.read_text(encoding="utf-8").strip()
    ]
    results: list[dict[str, Any]] = []
    for batch in batches(documents):
        request = urllib.request.Request(
            f"{api.rstrip('/')}/v1/ai/documents",
            data=json.dumps({"documents": batch}).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            results += json.loads(response.read())["documents"]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Ingest files into Parley's RAG store through the API.")
    parser.add_argument("--api", default="http://127.0.0.1:3000")
    parser.add_argument("--brand", required=True)
    parser.add_argument("--scope", required=True)
    parser.add_argument("--sub", default="dev-user")
    parser.add_argument("files", nargs="+", help="paths or glob patterns")
    args = parser.parse_args(argv)
    paths = sorted(
        {Path(p) for pattern in args.files for p in (glob.glob(pattern, recursive=True) or [pattern])}
    )
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print(f"not a file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    token = mint(args.sub, [args.brand], ["ai:ingest"])
    try:
        results = ingest(args.api, token, paths, args.brand, args.scope)
    except urllib.error.HTTPError as error:
        print(f"{error.code}: {error.read().decode()}", file=sys.stderr)
        return 1
    for result in results:
        print(f"{result['document_id']}: {result['chunks']} chunk(s)")
    print(f"{len(results)} document(s) ingested into brand {args.brand}, scope {args.scope}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
