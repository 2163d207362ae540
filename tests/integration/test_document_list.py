"""GET /v1/ai/documents: a brand's documents a page at a time (of one scope when asked), each with
its status; another brand's are never listed; a forged cursor is a 400."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import TokenFactory

pytestmark = pytest.mark.integration


def ingest(api: httpx.Client, headers: dict[str, str], brand: str, scope: str, count: int) -> list[str]:
    documents = [
        {
            "brand_id": brand,
            "rag_scope": scope,
            "document_id": f"doc-{n}",
            "title": f"Doc {n}",
            "content": f"Text {n}.",
        }
        for n in range(count)
    ]
    response = api.post("/v1/ai/documents", json={"documents": documents}, headers=headers)
    assert response.status_code == 201, response.text
    return [d["document_id"] for d in documents]


def test_a_brands_documents_are_listed_a_page_at_a_time_with_their_status(
    api: httpx.Client, auth: TokenFactory
) -> None:
    brand, other = f"list-{uuid.uuid4().hex[:8]}", f"list-{uuid.uuid4().hex[:8]}"
    acme = auth("alice", brands=[brand, other])
    ingest(api, acme, brand, "hr", 3)
    ingest(api, acme, brand, "it", 2)
    ingest(api, acme, other, "hr", 1)

    pages, cursor = [], None
    while True:
        params = {"brand_id": brand, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = api.get("/v1/ai/documents", params=params, headers=acme)
        assert response.status_code == 200, response.text
        pages.append(response.json()["documents"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    scoped = api.get("/v1/ai/documents", params={"brand_id": brand, "rag_scope": "it"}, headers=acme).json()

    listed = [(d["rag_scope"], d["document_id"]) for page in pages for d in page]
    assert listed == [("hr", "doc-0"), ("hr", "doc-1"), ("hr", "doc-2"), ("it", "doc-0"), ("it", "doc-1")]
    assert all(len(page) <= 2 for page in pages)
    first = pages[0][0]
    assert (first["status"], first["chunks"], first["title"]) == ("ready", 1, "Doc 0")
    assert [d["document_id"] for d in scoped["documents"]] == ["doc-0", "doc-1"]


def test_listing_another_brand_is_a_403_and_a_forged_cursor_a_400(
    api: httpx.Client, auth: TokenFactory
) -> None:
    alice = auth("alice", brands=["acme"])

    other = api.get("/v1/ai/documents", params={"brand_id": "globex"}, headers=alice)
    forged = api.get("/v1/ai/documents", params={"brand_id": "acme", "cursor": "not-a-cursor"}, headers=alice)

    assert other.status_code == 403
    assert forged.status_code == 400 and forged.json()["error"] == "invalid_cursor"
