"""`make ingest` against the gateway: a folder of Markdown files becomes documents that a RAG chat
answers from, with citations."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from local import ingest
from local.dynamodb import free_port
from local.template import ROOT
from tests.conftest import LocalStack, TokenFactory

pytestmark = pytest.mark.integration


def test_a_folder_of_markdown_is_ingested_and_cited(
    local_stack: LocalStack, api: httpx.Client, auth: TokenFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    status = ingest.main(
        ["--api", local_stack.url, "--brand", "acme", "--scope", "readme-docs", str(ROOT / "docs" / "*.md")]
    )

    assert status == 0
    pages = len(list((ROOT / "docs").glob("*.md")))
    assert f"{pages} document(s) ingested" in capsys.readouterr().out
    answer = api.post(
        "/v1/ai/chat",
        headers=auth("alice", brands=["acme"]),
        json={
            "messages": [
                {"role": "user", "content": "How are chunks scored and what does a threshold mean?"}
            ],
            "brand_id": "acme",
            "user_id": "alice",
            "rag_scope": "readme-docs",
        },
    ).json()
    assert answer["rag_context"][0]["id"].startswith("docs:rag.md:"), answer  # the page that explains it
    assert "docs:rag.md" in [c["document_id"] for c in answer["citations"]], answer


def test_ingesting_again_replaces_rather_than_duplicates(local_stack: LocalStack, tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("# Note\n\n" + "A sentence about budgets. " * 300)
    first, _ = ingest.ingest(
        local_stack.url, ingest.mint("dev", ["acme"], ["ai:ingest"]), [note], "acme", "notes"
    )
    note.write_text("# Note\n\nShort now.")

    second, _ = ingest.ingest(
        local_stack.url, ingest.mint("dev", ["acme"], ["ai:ingest"]), [note], "acme", "notes"
    )

    assert first[0]["document_id"] == second[0]["document_id"]
    assert first[0]["chunks"] > 1 and second[0]["chunks"] == 1


def test_batches_respect_the_count_and_size_limits() -> None:
    documents = [{"content": "x" * 1000}] * 120 + [{"content": "y" * (3 * 1024 * 1024)}] * 3

    groups = ingest.batches(documents)

    assert all(len(g) <= ingest.MAX_BATCH_DOCUMENTS for g in groups)
    assert all(sum(len(d["content"]) for d in g) <= ingest.MAX_BATCH_BYTES for g in groups)
    assert sum(len(g) for g in groups) == 123


def test_a_pdf_a_word_file_and_a_broken_one_go_through_the_upload_flow(
    local_stack: LocalStack,
    api: httpx.Client,
    auth: TokenFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.doubles import documents

    (tmp_path / "handbook.pdf").write_bytes(
        documents.pdf(
            ["Welcome.", "Expenses are monthly.", "Parental leave lasts sixteen weeks."], title="Handbook"
        )
    )
    (tmp_path / "travel.docx").write_bytes(documents.docx(["Book trains for trips under four hours."]))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7 nothing else")

    status = ingest.main(
        ["--api", local_stack.url, "--brand", "acme", "--scope", "uploaded", str(tmp_path / "*")]
    )

    out = capsys.readouterr().out
    assert status == 1  # one file failed, and the command says so
    assert "handbook.pdf: ready (3 chunk(s), 3 page(s))" in out and "travel.docx: ready" in out
    assert "broken.pdf: failed (The PDF is damaged" in out
    assert "2 document(s) ingested into brand acme, scope uploaded; 1 failed." in out


def test_with_nothing_listening_it_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nA short note.")
    address = f"http://127.0.0.1:{free_port()}"

    status = ingest.main(["--api", address, "--brand", "acme", "--scope", "docs", str(note)])

    error = capsys.readouterr().err
    assert status == 1
    assert error.startswith(f"Nothing answers at {address}") and "make dev" in error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1


def test_what_a_request_cannot_embed_in_time_is_uploaded_instead(
    local_stack: LocalStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The batch is refused as too large, its halves too, each document alone too: each then
    goes through the upload flow (the queue and the worker, which have no request deadline)."""
    monkeypatch.setenv("INGEST_DEADLINE_SECONDS", "0.000001")  # no request can embed past its probe
    notes = []
    for n in range(3):
        notes.append(tmp_path / f"long-{n}.md")
        notes[-1].write_text(f"# Long {n}\n\n" + f"Sentence {n} about travel budgets and receipts. " * 1500)

    status = ingest.main(
        ["--api", local_stack.url, "--brand", "acme", "--scope", "long-notes", *map(str, notes)]
    )

    out = capsys.readouterr().out
    assert status == 0, out
    assert "3 document(s) ingested" in out
    assert out.count(": ready (") == 3  # each through the upload flow, with its chunk count
