"""Synced folders on this machine: objects written to and deleted from `sync/<brand>/<scope>/` in
moto's S3, its notifications through SQS to the worker function, and `POST /v1/ai/sync` for what
the notifications missed. Add, overwrite, delete, rename, 200 files at once, a file that cannot
be read, and a reconcile after events were lost."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from local.files_stack import BUCKET
from tests.conftest import LocalStack, TokenFactory

pytestmark = pytest.mark.integration

SCOPE = "docs"


class Folder:
    def __init__(self, stack: LocalStack, api: httpx.Client, auth: TokenFactory) -> None:
        self.stack, self.api = stack, api
        self.brand = f"sync-{uuid.uuid4().hex[:8]}"
        self.s3 = stack.files.client("s3")
        self.reader = auth("reader", brands=[self.brand], scopes=["ai:chat", "ai:ingest"])
        self.admin = auth("ops", brands=[self.brand], scopes=["admin"])

    def key(self, path: str) -> str:
        return f"sync/{self.brand}/{SCOPE}/{path}"

    def put(self, path: str, text: str | bytes) -> None:
        body = text.encode() if isinstance(text, str) else text
        self.s3.put_object(Bucket=BUCKET, Key=self.key(path), Body=body)

    def delete(self, path: str) -> None:
        self.s3.delete_object(Bucket=BUCKET, Key=self.key(path))

    def documents(self) -> dict[str, dict[str, Any]]:
        listed: dict[str, dict[str, Any]] = {}
        cursor = None
        while True:
            params = {"brand_id": self.brand, "rag_scope": SCOPE, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            page = self.api.get("/v1/ai/documents", params=params, headers=self.reader).json()
            listed.update({d["document_id"]: d for d in page["documents"]})
            cursor = page.get("next_cursor")
            if not cursor:
                return listed

    def ask(self, question: str) -> list[str]:
        answer = self.api.post(
            "/v1/ai/chat",
            json={
                "messages": [{"role": "user", "content": question}],
                "brand_id": self.brand,
                "user_id": "reader",
                "rag_scope": SCOPE,
                "top_k": 5,
                "threshold": 0,
            },
            headers=self.reader,
        )
        assert answer.status_code == 200, answer.text
        return [c["content"] for c in answer.json()["rag_context"]]

    def sync(self) -> httpx.Response:
        return self.api.post(
            "/v1/ai/sync", json={"brand_id": self.brand, "rag_scope": SCOPE}, headers=self.admin
        )


def until(read: Callable[[], Any], done: Callable[[Any], bool], seconds: float = 120) -> Any:
    """`read()` once `done` holds, polled: a safety net, after which the last reading is judged."""
    found = read()
    deadline = time.monotonic() + seconds
    while not done(found) and time.monotonic() < deadline:
        time.sleep(0.2)
        found = read()
    return found


def settled(documents: dict[str, dict[str, Any]]) -> bool:
    return all(d["status"] in ("ready", "failed") for d in documents.values())


@pytest.fixture
def folder(local_stack: LocalStack, api: httpx.Client, auth: TokenFactory) -> Iterator[Folder]:
    yield Folder(local_stack, api, auth)


def test_added_overwritten_and_deleted_files_keep_the_index_in_step(folder: Folder) -> None:
    folder.put("handbook/leave.md", "# Leave\n\nParental leave lasts sixteen weeks at full pay.")
    folder.put("notes.txt", "The canteen opens at noon.")

    added = until(folder.documents, lambda d: set(d) == {"handbook/leave.md", "notes.txt"} and settled(d))
    assert {d["status"] for d in added.values()} == {"ready"}
    assert added["handbook/leave.md"]["title"] == "leave.md"
    assert "Parental leave lasts sixteen weeks at full pay." in " ".join(folder.ask("parental leave"))

    folder.put("handbook/leave.md", "# Leave\n\nParental leave lasts twenty weeks now.")
    until(lambda: folder.ask("parental leave"), lambda found: any("twenty weeks" in c for c in found))
    assert not any("sixteen" in c for c in folder.ask("parental leave"))

    folder.delete("notes.txt")
    remaining = until(folder.documents, lambda d: "notes.txt" not in d)
    assert set(remaining) == {"handbook/leave.md"}
    assert not any("canteen" in c for c in folder.ask("canteen noon"))


def test_a_renamed_file_moves_its_document(folder: Folder) -> None:
    folder.put("old-name.txt", "Expenses are reimbursed monthly.")
    until(folder.documents, lambda d: d.get("old-name.txt", {}).get("status") == "ready")

    folder.s3.copy_object(
        Bucket=BUCKET,
        Key=folder.key("new-name.txt"),
        CopySource={"Bucket": BUCKET, "Key": folder.key("old-name.txt")},
    )
    folder.delete("old-name.txt")

    moved = until(folder.documents, lambda d: set(d) == {"new-name.txt"} and settled(d))
    assert moved["new-name.txt"]["status"] == "ready"


def test_a_file_that_cannot_be_read_fails_with_a_reason_and_blocks_nothing(folder: Folder) -> None:
    folder.put("broken.pdf", b"%PDF-1.7 this is not a PDF at all")
    folder.put("fine.txt", "Travel needs a receipt.")

    found = until(folder.documents, lambda d: len(d) == 2 and settled(d))

    assert found["broken.pdf"]["status"] == "failed" and found["broken.pdf"]["error"]
    assert found["fine.txt"]["status"] == "ready"


def test_two_hundred_files_at_once_are_all_indexed(folder: Folder) -> None:
    for n in range(200):
        folder.put(f"bulk/file-{n:03}.txt", f"Bulk file number {n} about topic {n % 7}.")

    found = until(folder.documents, lambda d: len(d) == 200 and settled(d), seconds=300)

    assert len(found) == 200
    assert {d["status"] for d in found.values()} == {"ready"}


def test_a_reconcile_finds_what_lost_events_left_out(folder: Folder, local_stack: LocalStack) -> None:
    folder.put("kept.txt", "Kept as it is.")
    folder.put("changed.txt", "The first version.")
    folder.put("gone.txt", "Soon deleted.")
    until(folder.documents, lambda d: len(d) == 3 and settled(d))
    s3 = folder.s3
    notifications = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    notifications.pop("ResponseMetadata", None)
    # Events lost: the folder changes while its notifications are off.
    only_uploads = [c for c in notifications["QueueConfigurations"] if "sync/" not in str(c["Filter"])]
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": only_uploads}
    )
    try:
        folder.put("changed.txt", "The second version.")
        folder.put("new.txt", "Arrived while nobody listened.")
        folder.delete("gone.txt")
    finally:
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=notifications)

    planned = folder.sync()
    again = None
    after = until(folder.documents, lambda d: set(d) == {"kept.txt", "changed.txt", "new.txt"} and settled(d))
    again = folder.sync()

    assert planned.status_code == 202, planned.text
    assert planned.json() == {
        "brand_id": folder.brand,
        "rag_scope": SCOPE,
        "prefix": f"sync/{folder.brand}/{SCOPE}/",
        "add": 1,
        "update": 1,
        "remove": 1,
    }
    assert {d["status"] for d in after.values()} == {"ready"}
    assert any("second version" in c for c in folder.ask("version"))
    assert again is not None and (again.json()["add"], again.json()["update"], again.json()["remove"]) == (
        0,
        0,
        0,
    )


def test_only_an_admin_of_the_brand_may_reconcile_and_a_bad_body_is_a_400(
    folder: Folder, api: httpx.Client, auth: TokenFactory
) -> None:
    not_admin = api.post(
        "/v1/ai/sync", json={"brand_id": folder.brand, "rag_scope": SCOPE}, headers=folder.reader
    )
    other_brand = api.post(
        "/v1/ai/sync",
        json={"brand_id": folder.brand, "rag_scope": SCOPE},
        headers=auth("x", brands=["globex"], scopes=["admin"]),
    )
    missing_scope = api.post("/v1/ai/sync", json={"brand_id": folder.brand}, headers=folder.admin)

    assert not_admin.status_code == 403
    assert other_brand.status_code == 403
    assert missing_scope.status_code == 400 and "rag_scope" in missing_scope.text


def test_deleting_a_synced_document_through_the_api_leaves_the_brands_file(folder: Folder) -> None:
    folder.put("policy.txt", "Remote work needs approval.")
    until(folder.documents, lambda d: d.get("policy.txt", {}).get("status") == "ready")

    deleted = folder.api.delete(
        "/v1/ai/documents/policy.txt",
        params={"brand_id": folder.brand, "rag_scope": SCOPE},
        headers=folder.reader,
    )

    assert deleted.status_code == 204, deleted.text
    assert folder.s3.head_object(Bucket=BUCKET, Key=folder.key("policy.txt"))["ContentLength"] > 0
    assert "policy.txt" not in folder.documents()
