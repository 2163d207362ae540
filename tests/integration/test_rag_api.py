"""Ingestion and POST /v1/ai/chat (document 003) through the gateway and the provider servers:
retrieval, citations, templates, assistants, tenancy and every validation rule of the schema.
What depends on the vector store runs on both: the local store and a real OpenSearch node."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests.conftest import TokenFactory, VectorBackend
from tests.doubles.fake_providers import OPENAI_PATH, ProviderServer, Scripted

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).parent.parent / "contract" / "schemas"
HANDBOOK = {
    "vacation": "Every employee gets 25 vacation days a year. Unused vacation days carry over until March.",
    "expenses": "Expense reports are due on the fifth of each month. Receipts over 50 euros need a scan.",
    "office": "The office opens at nine and closes at six. Visitors sign in at the front desk.",
}


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        json.loads((SCHEMAS / f"{name}.json").read_text()), format_checker=FormatChecker()
    )


@pytest.fixture
def acme(auth: TokenFactory) -> dict[str, str]:
    return auth("alice", brands=["acme"])


@pytest.fixture(autouse=True)
def scope(monkeypatch: pytest.MonkeyPatch) -> str:
    """A scope of the test's own, so documents of one test never show in another's answers."""
    own = f"hr-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(sys.modules[__name__], "SCOPE", own)
    return own


SCOPE = "hr"


@pytest.fixture
def handbook(
    api: httpx.Client, acme: dict[str, str], scope: str, vector_backend: VectorBackend
) -> dict[str, Any]:
    documents = [
        {"brand_id": "acme", "rag_scope": scope, "document_id": name, "title": name.title(), "content": text}
        for name, text in HANDBOOK.items()
    ]
    response = api.post("/v1/ai/documents", json={"documents": documents}, headers=acme)
    assert response.status_code == 201, response.text  # searchable once answered: no settle()
    return dict(response.json())


def ask(api: httpx.Client, headers: dict[str, str], question: str, **body: Any) -> httpx.Response:
    payload = {
        "messages": [{"role": "user", "content": question}],
        "brand_id": "acme",
        "user_id": "alice",
        "rag_scope": SCOPE,
        **body,
    }
    return api.post("/v1/ai/chat", json=payload, headers=headers)


def test_ingesting_reports_each_document_and_its_chunks(handbook: dict[str, Any]) -> None:
    assert [(d["document_id"], d["chunks"]) for d in handbook["documents"]] == [
        ("vacation", 1),
        ("expenses", 1),
        ("office", 1),
    ]


def test_a_single_document_gets_an_id_when_none_is_given(api: httpx.Client, acme: dict[str, str]) -> None:
    response = api.post(
        "/v1/ai/documents",
        headers=acme,
        json={"brand_id": "acme", "rag_scope": "misc", "content": "word " * 2000},
    )

    assert response.status_code == 201
    document = response.json()["documents"][0]
    assert document["document_id"] and document["chunks"] > 1


def test_the_answer_cites_the_retrieved_context(
    api: httpx.Client, acme: dict[str, str], handbook: dict[str, Any]
) -> None:
    response = ask(api, acme, "How many vacation days do I get?")

    assert response.status_code == 200, response.text
    body = response.json()
    assert validator("ai_chat.200").is_valid(body)
    assert body["rag_context"][0]["id"] == "vacation:0"
    assert body["citations"] and body["citations"][0]["document_id"] == "vacation"
    assert f"[{body['citations'][0]['index']}]" in body["content"]
    assert (
        body["rag_context"][body["citations"][0]["index"] - 1]["content"] == body["citations"][0]["content"]
    )
    assert (body["template_id"], body["template_version"]) == ("parley-default", "1")
    assert body["model"] == "parley-offline"


def test_top_k_and_threshold_bound_the_context(
    api: httpx.Client, acme: dict[str, str], handbook: dict[str, Any]
) -> None:
    one = ask(api, acme, "vacation days", top_k=1).json()
    everything = ask(api, acme, "vacation days", top_k=10, threshold=0).json()
    strict = ask(api, acme, "vacation days", top_k=10, threshold=0.99).json()

    assert len(one["rag_context"]) == 1
    assert len(everything["rag_context"]) == 3
    scores = [c["score"] for c in everything["rag_context"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert strict["rag_context"] == [] and strict["citations"] == []
    assert strict["content"]  # it still answers


def test_a_citation_beyond_the_context_is_dropped(
    api: httpx.Client, acme: dict[str, str], handbook: dict[str, Any], providers: ProviderServer
) -> None:
    providers.script(
        OPENAI_PATH,
        Scripted(
            reply={
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {
                            "role": "assistant",
                            "content": "Twenty-five days [1], per policy [7] and [3].",
                        },
                    }
                ]
            }
        ),
    )

    body = ask(api, acme, "vacation days", model="gpt-4o", top_k=3, threshold=0).json()

    assert len(body["rag_context"]) == 3
    assert [c["index"] for c in body["citations"]] == [1, 3]
    system = providers.requests_to(OPENAI_PATH)[0].body["messages"][0]["content"]
    assert "[1] (Vacation)" in system and "[3]" in system


def test_reingesting_replaces_the_documents_chunks(
    api: httpx.Client, acme: dict[str, str], handbook: dict[str, Any], vector_backend: VectorBackend
) -> None:
    api.post(
        "/v1/ai/documents",
        headers=acme,
        json={
            "brand_id": "acme",
            "rag_scope": SCOPE,
            "document_id": "vacation",
            "content": "Vacation is now 30 days.",
        },
    )
    # No settle(): a call that returned is seen by the next search, on every store.

    context = ask(api, acme, "vacation days", top_k=10).json()["rag_context"]

    vacation = [c["content"] for c in context if c["id"].startswith("vacation:")]
    assert vacation == ["Vacation is now 30 days."]


def test_deleting_a_document_removes_it(
    api: httpx.Client, acme: dict[str, str], handbook: dict[str, Any], vector_backend: VectorBackend
) -> None:
    url = "/v1/ai/documents/office"
    params = {"brand_id": "acme", "rag_scope": SCOPE}

    first = api.delete(url, params=params, headers=acme)
    second = api.delete(url, params=params, headers=acme)

    assert first.status_code == 204 and second.status_code == 404  # and no settle(): seen at once
    context = ask(api, acme, "office", top_k=10, threshold=0).json()["rag_context"]
    assert context  # the other documents are still there ...
    assert [c["id"] for c in context if c["id"].startswith("office:")] == []  # ... and not this one


def test_no_request_of_one_brand_ever_returns_anothers_chunks(
    api: httpx.Client, auth: TokenFactory, vector_backend: VectorBackend
) -> None:
    both = auth("ingester", brands=["acme", "globex"])
    for brand in ("acme", "globex"):
        api.post(
            "/v1/ai/documents",
            headers=both,
            json={
                "brand_id": brand,
                "rag_scope": SCOPE,
                "document_id": "policy",
                "content": f"The {brand} vacation policy grants 25 vacation days a year.",
            },
        )
    vector_backend.settle()
    acme = auth("alice", brands=["acme"])

    for question in ("globex vacation policy", "acme vacation policy", "vacation"):
        for scope in (SCOPE, None):
            body = {"rag_scope": scope} if scope else {"rag_scope": None}
            context = ask(api, acme, question, top_k=10, threshold=0, **body).json()["rag_context"]
            assert context and all("globex" not in c["content"] for c in context)


def test_a_brand_outside_the_token_is_a_403(api: httpx.Client, acme: dict[str, str]) -> None:
    chat = ask(api, acme, "hello", brand_id="globex")
    ingest = api.post(
        "/v1/ai/documents", headers=acme, json={"brand_id": "globex", "rag_scope": "hr", "content": "x"}
    )
    delete = api.delete("/v1/ai/documents/x", params={"brand_id": "globex", "rag_scope": "hr"}, headers=acme)

    assert [r.status_code for r in (chat, ingest, delete)] == [403, 403, 403]


def test_a_user_id_other_than_the_caller_is_a_403(api: httpx.Client, acme: dict[str, str]) -> None:
    assert ask(api, acme, "hello", user_id="bob").status_code == 403


INVALID = [
    ("no messages", {"messages": []}),
    ("a role outside the enum", {"messages": [{"role": "tool", "content": "x"}]}),
    ("a message without content", {"messages": [{"role": "user"}]}),
    ("an empty brand_id", {"brand_id": ""}),
    ("an empty user_id", {"user_id": ""}),
    ("a model outside the enum", {"model": "gpt-17"}),
    ("top_k of 0", {"top_k": 0}),
    ("top_k as a string", {"top_k": "5"}),
    ("a fractional top_k", {"top_k": 2.5}),
    ("threshold above 1", {"threshold": 1.5}),
    ("threshold below 0", {"threshold": -0.1}),
    ("temperature above 2", {"temperature": 2.5}),
    ("max_tokens of 0", {"max_tokens": 0}),
]


@pytest.mark.parametrize(("case", "change"), INVALID, ids=[case for case, _ in INVALID])
def test_every_schema_rule_is_a_400(
    api: httpx.Client, acme: dict[str, str], case: str, change: dict[str, Any]
) -> None:
    response = ask(api, acme, "hello", **change)

    assert response.status_code == 400, f"{case}: {response.text}"
    assert validator("ai_chat.400").is_valid(response.json())


def test_without_a_user_message_it_answers_without_sources(
    api: httpx.Client, acme: dict[str, str], handbook: dict[str, Any]
) -> None:
    response = ask(api, acme, "unused", messages=[{"role": "system", "content": "Say hello."}])

    assert response.status_code == 200
    assert response.json()["rag_context"] == [] and response.json()["citations"] == []


def test_templates_are_versioned_and_assistants_pin_them(
    api: httpx.Client, acme: dict[str, str], handbook: dict[str, Any]
) -> None:
    template = f"hr-voice-{uuid.uuid4().hex[:8]}"  # versions start at 1 for this test alone
    first = api.post(
        "/v1/ai/templates",
        headers=acme,
        json={"brand_id": "acme", "template_id": template, "body": "Answer as Acme HR.\n\n{{context}}"},
    )
    second = api.post(
        "/v1/ai/templates",
        headers=acme,
        json={
            "brand_id": "acme",
            "template_id": template,
            "body": "Answer as Acme People Team.\n\n{{context}}",
        },
    )
    latest = api.get(f"/v1/ai/templates/{template}", params={"brand_id": "acme"}, headers=acme)
    pinned = api.get(
        f"/v1/ai/templates/{template}", params={"brand_id": "acme", "version": "1"}, headers=acme
    )
    assistant = api.post(
        "/v1/ai/assistants",
        headers=acme,
        json={
            "brand_id": "acme",
            "name": "HR",
            "template_id": template,
            "template_version": "1",
            "rag_scope": SCOPE,
            "top_k": 1,
            "system_prompt": "You work for Acme.",
        },
    ).json()["assistant"]

    answer = ask(api, acme, "vacation days", assistant_id=assistant["assistant_id"], rag_scope=None).json()
    overridden = ask(
        api, acme, "vacation days", assistant_id=assistant["assistant_id"], top_k=2, threshold=0
    ).json()

    assert [r.json()["template"]["version"] for r in (first, second, latest, pinned)] == ["1", "2", "2", "1"]
    assert (answer["template_id"], answer["template_version"]) == (template, "1")
    assert len(answer["rag_context"]) == 1 and len(overridden["rag_context"]) == 2
    fetched = api.get(f"/v1/ai/assistants/{assistant['assistant_id']}", headers=acme).json()["assistant"]
    assert fetched == assistant


def test_catalog_errors_are_4xx(api: httpx.Client, acme: dict[str, str], auth: TokenFactory) -> None:
    no_context = api.post(
        "/v1/ai/templates", headers=acme, json={"brand_id": "acme", "body": "no placeholder"}
    )
    missing = api.get("/v1/ai/templates/nope", params={"brand_id": "acme"}, headers=acme)
    unknown_assistant = ask(api, acme, "hi", assistant_id="nope")
    not_admin = api.post(
        "/v1/ai/assistants",
        headers=auth("alice", brands=["acme"], scopes=["ai:chat"]),
        json={"brand_id": "acme", "name": "x"},
    )
    globex_admin = auth("gina", brands=["globex"])
    foreign = api.post("/v1/ai/assistants", headers=globex_admin, json={"brand_id": "globex", "name": "G"})
    foreign_read = api.get(f"/v1/ai/assistants/{foreign.json()['assistant']['assistant_id']}", headers=acme)

    assert [r.status_code for r in (no_context, missing, unknown_assistant, not_admin, foreign_read)] == [
        400,
        404,
        404,
        403,
        404,
    ]


def test_the_request_schema_and_the_api_agree(
    api: httpx.Client, acme: dict[str, str], handbook: dict[str, Any]
) -> None:
    schema = validator("ai_chat.request")
    samples = [
        {"messages": [{"role": "user", "content": "vacation"}], "brand_id": "acme", "user_id": "alice"},
        {
            "messages": [{"role": "user", "content": "vacation"}],
            "brand_id": "acme",
            "user_id": "alice",
            "top_k": 2,
            "threshold": 0.25,
            "temperature": 0.7,
            "max_tokens": 100,
            "rag_scope": SCOPE,
        },
        {"messages": [{"role": "user", "content": "vacation"}], "brand_id": "acme"},
        {
            "messages": [{"role": "user", "content": "vacation"}],
            "brand_id": "acme",
            "user_id": "alice",
            "temperature": "hot",
        },
        {"brand_id": "acme", "user_id": "alice"},
    ]
    for sample in samples:
        response = api.post("/v1/ai/chat", json=sample, headers=acme)
        assert (response.status_code == 200) == schema.is_valid(sample), (sample, response.text)


def test_a_batch_too_big_for_the_deadline_is_a_413_that_names_the_way_and_stores_nothing(
    api: httpx.Client, acme: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_DEADLINE_SECONDS", "0.001")  # no embedder keeps pace with that
    documents = [
        {"brand_id": "acme", "rag_scope": SCOPE, "document_id": f"abstract-{n}", "content": f"Abstract {n}."}
        for n in range(30)
    ]

    refused = api.post("/v1/ai/documents", json={"documents": documents}, headers=acme)
    stored = api.get(
        "/v1/ai/documents/abstract-0", params={"brand_id": "acme", "rag_scope": SCOPE}, headers=acme
    )
    small = api.post("/v1/ai/documents", json={"documents": documents[:3]}, headers=acme)  # one probe

    assert refused.status_code == 413, refused.text
    assert refused.json()["error"] == "batch_too_large"
    assert "30 chunks" in refused.json()["message"] and "POST /v1/ai/files" in refused.json()["message"]
    assert stored.status_code == 404
    assert small.status_code == 201


def test_a_batch_with_a_field_of_its_documents_says_so_in_plain_words(
    api: httpx.Client, acme: dict[str, str]
) -> None:
    body = {"brand_id": "acme", "documents": [{"brand_id": "acme", "rag_scope": SCOPE, "content": "x"}]}

    response = api.post("/v1/ai/documents", json=body, headers=acme)

    assert response.status_code == 400
    message = response.json()["message"]
    assert "function-after" not in message and "DocumentIn" not in message and "DocumentBatch" not in message
    assert "brand_id: Extra inputs are not permitted" in message
