"""Files through the whole pipeline on this machine: POST /v1/ai/files, the client's PUT to the
presigned URL (moto's S3), the bucket's notification through SQS to the worker function, and the
document's status; small files inline; hostile files fail with a reason and block nothing."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import time
import uuid
from typing import Any

import httpx
import pytest

from local.files_stack import BUCKET
from tests.conftest import LocalStack, TokenFactory
from tests.doubles import documents

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")  # the API documents' format

pytestmark = pytest.mark.integration

HANDBOOK = [
    "Welcome to the Parley handbook.\nThis guide covers the office and its people.",
    "Expenses are reimbursed monthly.\nKeep every receipt for travel.",
    "Parental leave lasts sixteen weeks at full pay.\nTell your manager a month ahead.",
]


@pytest.fixture
def acme(auth: TokenFactory) -> dict[str, str]:
    return auth("filer", brands=["acme"])


def upload(
    api: httpx.Client,
    headers: dict[str, str],
    data: bytes,
    filename: str,
    content_type: str,
    *,
    scope: str = "files",
    declared: int | None = None,
    document_id: str | None = None,
) -> str:
    body: dict[str, Any] = {
        "brand_id": "acme",
        "rag_scope": scope,
        "filename": filename,
        "content_type": content_type,
        "size": declared or len(data),
    }
    if document_id:
        body["document_id"] = document_id
    accepted = api.post("/v1/ai/files", json=body, headers=headers)
    assert accepted.status_code == 201, accepted.text
    answer = accepted.json()
    assert answer["status"] == "pending" and answer["upload"]["method"] == "PUT"
    put = httpx.put(answer["upload"]["url"], content=data, headers=answer["upload"]["headers"])
    assert put.status_code == 200, put.text
    return str(answer["document_id"])


def settled(
    api: httpx.Client, headers: dict[str, str], document_id: str, scope: str = "files"
) -> dict[str, Any]:
    """The document's status once the worker is done with it (polled; at most about 60 s)."""
    for _ in range(600):
        status = api.get(
            f"/v1/ai/documents/{document_id}",
            params={"brand_id": "acme", "rag_scope": scope},
            headers=headers,
        ).json()
        if status["status"] in ("ready", "failed"):
            return dict(status)
        time.sleep(0.1)
    raise AssertionError(f"document {document_id} never settled: {status}")


def test_a_pdf_becomes_ready_and_an_answer_cites_its_third_page(
    api: httpx.Client, acme: dict[str, str]
) -> None:
    scope = f"pdf-{uuid.uuid4().hex[:8]}"  # this test's alone: other tests ingest the same text
    document_id = upload(
        api, acme, documents.pdf(HANDBOOK, title="Handbook"), "handbook.pdf", "application/pdf", scope=scope
    )

    status = settled(api, acme, document_id, scope)
    answer = api.post(
        "/v1/ai/chat",
        json={
            "brand_id": "acme",
            "user_id": "filer",
            "rag_scope": scope,
            "messages": [{"role": "user", "content": "How long is parental leave?"}],
        },
        headers=acme,
    ).json()

    assert status["status"] == "ready", status
    assert (status["pages"], status["filename"], status["content_type"]) == (
        3,
        "handbook.pdf",
        "application/pdf",
    )
    assert status["chunks"] == 3 and status["bytes"] > 0
    assert TIMESTAMP.fullmatch(status["updated_at"]), status["updated_at"]  # as every other timestamp
    top = answer["rag_context"][0]
    assert (top["page"], top["title"]) == (3, "Handbook") and "sixteen weeks" in top["content"]
    assert answer["citations"][0]["page"] == 3 and answer["citations"][0]["title"] == "Handbook"


def test_a_word_document_and_an_html_page_are_read_without_boilerplate(
    api: httpx.Client, acme: dict[str, str], local_stack: LocalStack
) -> None:
    word = upload(
        api,
        acme,
        documents.docx(["Travel policy", "Book trains for trips under four hours."]),
        "travel.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    html = (
        "<!DOCTYPE html><html><head><title>Refunds</title></head><body><nav>Home Shop Cart</nav>"
        "<main><h1>Refunds</h1><p>Refunds are paid within 14 days.</p></main>"
        "<footer>Copyright</footer></body></html>"
    )
    page = upload(api, acme, html.encode(), "refunds.html", "text/html")

    assert settled(api, acme, word)["status"] == "ready"
    assert settled(api, acme, page)["status"] == "ready"
    texts = stored_chunks(local_stack, page)
    joined = " ".join(texts)
    assert "Home Shop Cart" not in joined and "Copyright" not in joined  # navigation and footer dropped
    assert "Refunds are paid within 14 days." in joined
    assert "Book trains for trips under four hours." in " ".join(stored_chunks(local_stack, word))


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "declared", "reason"),
    [
        (documents.encrypted_pdf(HANDBOOK), "locked.pdf", "application/pdf", None, "encrypted"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog", "broken.pdf", "application/pdf", None, "damaged"),
        (
            documents.docx_bomb(),
            "bomb.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            None,
            "zip bomb",
        ),
        (b"a" * 5000, "big.txt", "text/plain", 100, "declared"),
        (documents.PNG, "picture.txt", "text/plain", None, "not supported"),
    ],
)
def test_a_hostile_file_fails_with_a_reason_and_indexes_nothing(
    api: httpx.Client,
    acme: dict[str, str],
    local_stack: LocalStack,
    data: bytes,
    filename: str,
    content_type: str,
    declared: int | None,
    reason: str,
) -> None:
    bad = upload(api, acme, data, filename, content_type, declared=declared)
    good = upload(api, acme, b"Lunch is served at noon.", "lunch.txt", "text/plain")

    failed = settled(api, acme, bad)

    assert failed["status"] == "failed" and reason in failed["error"], failed
    assert failed["chunks"] == 0 and stored_chunks(local_stack, bad) == []
    assert settled(api, acme, good)["status"] == "ready"  # the queue went on


def test_a_repeated_notification_adds_no_chunk(
    api: httpx.Client, acme: dict[str, str], local_stack: LocalStack
) -> None:
    document_id = upload(api, acme, documents.pdf(HANDBOOK), "handbook.pdf", "application/pdf")
    before = settled(api, acme, document_id)
    files = local_stack.files
    key = next(
        o["Key"]
        for o in files.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]
        if document_key(o["Key"], document_id)
    )
    notification = {
        "Records": [
            {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}}
        ]
    }

    for _ in range(2):
        files.client("sqs").send_message(QueueUrl=files.queue_url, MessageBody=json.dumps(notification))
    wait_for_empty_queue(local_stack)

    after = settled(api, acme, document_id)
    assert after == before
    assert len(stored_chunks(local_stack, document_id)) == before["chunks"] == 3


def test_a_reupload_replaces_the_document_once_indexed(
    api: httpx.Client, acme: dict[str, str], local_stack: LocalStack
) -> None:
    document_id = upload(api, acme, b"The first version.", "notes.txt", "text/plain")
    assert settled(api, acme, document_id)["status"] == "ready"

    upload(api, acme, b"The second version.", "notes.txt", "text/plain", document_id=document_id)

    assert settled(api, acme, document_id)["status"] == "ready"
    assert stored_chunks(local_stack, document_id) == ["The second version."]


def test_a_small_file_can_come_inline_and_deleting_a_document_removes_its_file(
    api: httpx.Client, acme: dict[str, str], local_stack: LocalStack
) -> None:
    inline = api.post(
        "/v1/ai/documents",
        json={
            "brand_id": "acme",
            "rag_scope": "files",
            "document_id": f"inline-{uuid.uuid4().hex[:8]}",
            "content_base64": base64.b64encode(documents.pdf(HANDBOOK)).decode(),
            "content_type": "application/pdf",
        },
        headers=acme,
    )
    uploaded = upload(api, acme, b"Soon gone.", "gone.txt", "text/plain")
    settled(api, acme, uploaded)

    deleted = api.delete(
        f"/v1/ai/documents/{uploaded}", params={"brand_id": "acme", "rag_scope": "files"}, headers=acme
    )

    assert inline.status_code == 201 and inline.json()["documents"][0]["pages"] == 3
    assert deleted.status_code == 204
    keys = [
        o["Key"] for o in local_stack.files.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])
    ]
    assert not any(document_key(key, uploaded) for key in keys)
    gone = api.get(
        f"/v1/ai/documents/{uploaded}", params={"brand_id": "acme", "rag_scope": "files"}, headers=acme
    )
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"content_type": "image/png"}, 400, "unsupported_file_type"),
        ({"size": 200 * 1024 * 1024}, 413, "content_too_large"),
        ({"brand_id": "globex"}, 403, "forbidden"),
        ({"size": 0}, 400, "invalid_request"),
    ],
)
def test_a_file_the_api_refuses_leaves_nothing(
    api: httpx.Client, acme: dict[str, str], change: dict[str, Any], status: int, code: str
) -> None:
    body = {
        "brand_id": "acme",
        "rag_scope": "files",
        "filename": "x.pdf",
        "content_type": "application/pdf",
        "size": 10,
    }
    document_id = f"refused-{uuid.uuid4().hex[:8]}"

    response = api.post("/v1/ai/files", json={**body, "document_id": document_id, **change}, headers=acme)

    assert (response.status_code, response.json()["error"]) == (status, code)
    lookup = api.get(
        f"/v1/ai/documents/{document_id}", params={"brand_id": "acme", "rag_scope": "files"}, headers=acme
    )
    assert lookup.status_code == 404


def test_another_brands_document_status_is_a_404(
    api: httpx.Client, auth: TokenFactory, acme: dict[str, str]
) -> None:
    document_id = upload(api, acme, b"Acme only.", "acme.txt", "text/plain")
    globex = auth("other", brands=["globex"])

    response = api.get(
        f"/v1/ai/documents/{document_id}", params={"brand_id": "globex", "rag_scope": "files"}, headers=globex
    )

    assert response.status_code == 404


def document_key(key: str, document_id: str) -> bool:
    from parley.store.files import UploadKey

    parsed = UploadKey.parse(key)
    return parsed is not None and parsed.document_id == document_id


def stored_chunks(local_stack: LocalStack, document_id: str) -> list[str]:
    import os

    with sqlite3.connect(os.environ["RAG_LOCAL_PATH"]) as db:
        rows = db.execute(
            "SELECT content FROM chunks WHERE document_id = ? ORDER BY chunk_index", (document_id,)
        ).fetchall()
    return [row[0] for row in rows]


def wait_for_empty_queue(local_stack: LocalStack) -> None:
    sqs = local_stack.files.client("sqs")
    for _ in range(300):
        attributes = sqs.get_queue_attributes(
            QueueUrl=local_stack.files.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if (
            attributes["ApproximateNumberOfMessages"] == "0"
            and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
        ):
            return
        time.sleep(0.1)
    raise AssertionError("the queue never emptied")
