"""Metadata filters through the API, on both vector stores: POST /v1/ai/chat's `filters`, an
assistant's pinned filters (a request narrows, never widens), the OpenAI-compatible route's
assistants, and the refusals that name the key."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import openai
import pytest

from local.token import mint
from tests.conftest import LocalStack, TokenFactory, VectorBackend

pytestmark = pytest.mark.integration

POLICIES = {
    "travel-2022-en": ({"lang": "en", "year": 2022}, "Travel policy: book economy class for every flight."),
    "travel-2024-en": (
        {"lang": "en", "year": 2024},
        "Travel policy: book economy class, trains under four hours.",
    ),
    "travel-2024-fr": (
        {"lang": "fr", "year": 2024},
        "Travel policy: economy class, trains below four hours.",
    ),
}


@pytest.fixture
def brand() -> str:
    return f"flt-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def admin(auth: TokenFactory, brand: str) -> dict[str, str]:
    return auth("ops", brands=[brand], scopes=["admin", "ai:ingest", "ai:chat"])


@pytest.fixture
def policies(api: httpx.Client, admin: dict[str, str], brand: str, vector_backend: VectorBackend) -> None:
    documents = [
        {"brand_id": brand, "rag_scope": "hr", "document_id": name, "content": text, "metadata": metadata}
        for name, (metadata, text) in POLICIES.items()
    ]
    response = api.post("/v1/ai/documents", json={"documents": documents}, headers=admin)
    assert response.status_code == 201, response.text
    vector_backend.settle()


def ask(api: httpx.Client, headers: dict[str, str], brand: str, **body: Any) -> httpx.Response:
    payload = {
        "messages": [{"role": "user", "content": "What is the travel policy?"}],
        "brand_id": brand,
        "user_id": "ops",
        "rag_scope": "hr",
        "threshold": 0,
        **body,
    }
    return api.post("/v1/ai/chat", json=payload, headers=headers)


def sources(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(chunk["id"].split(":")[0] for chunk in response.json()["rag_context"])


@pytest.mark.usefixtures("policies")
def test_the_rag_chat_searches_only_what_the_filters_admit(
    api: httpx.Client, admin: dict[str, str], brand: str
) -> None:
    assert sources(ask(api, admin, brand)) == sorted(POLICIES)
    assert sources(ask(api, admin, brand, filters={"lang": "en"})) == ["travel-2022-en", "travel-2024-en"]
    assert sources(ask(api, admin, brand, filters={"lang": "en", "year": {"gte": 2023}})) == [
        "travel-2024-en"
    ]
    assert sources(ask(api, admin, brand, filters={"year": {"in": [2022]}}, top_k=1)) == ["travel-2022-en"]
    assert sources(ask(api, admin, brand, filters={"year": "2024"})) == []  # a string is not the number


@pytest.mark.usefixtures("policies")
def test_an_assistants_pinned_filters_can_be_narrowed_never_widened(
    api: httpx.Client, admin: dict[str, str], brand: str
) -> None:
    assistant = api.post(
        "/v1/ai/assistants",
        json={"brand_id": brand, "name": "English HR", "rag_scope": "hr", "filters": {"lang": "en"}},
        headers=admin,
    ).json()["assistant"]
    using = {"assistant_id": assistant["assistant_id"]}

    pinned = ask(api, admin, brand, **using)
    narrower = ask(api, admin, brand, **using, filters={"lang": "en", "year": 2024})
    wider = ask(api, admin, brand, **using, filters={"lang": {"in": ["en", "fr"]}})

    assert assistant["filters"] == {"lang": "en"}
    assert sources(pinned) == ["travel-2022-en", "travel-2024-en"]
    assert sources(narrower) == ["travel-2024-en"]
    assert wider.status_code == 403
    assert wider.json()["error"] == "filter_outside_pin"
    assert "filters.lang" in wider.json()["message"]


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ({"year": {"near": 2024}}, "filters.year: unknown operator 'near'"),
        ({"lang": {"in": "en"}}, "filters.lang.in must be a non-empty list"),
        ({"year": {"gte": [2020]}}, "filters.year.gte must be a number or an ISO 8601 date"),
    ],
)
def test_a_malformed_filter_is_a_400_naming_the_key(
    api: httpx.Client, admin: dict[str, str], brand: str, filters: dict[str, Any], named: str
) -> None:
    refused = ask(api, admin, brand, filters=filters)
    assistant = api.post(
        "/v1/ai/assistants", json={"brand_id": brand, "name": "Bad", "filters": filters}, headers=admin
    )

    for response in (refused, assistant):
        assert response.status_code == 400
        assert named in response.json()["message"]


@pytest.mark.usefixtures("policies")
def test_the_openai_route_applies_an_assistants_filters_and_narrows_them(
    api: httpx.Client, admin: dict[str, str], brand: str, local_stack: LocalStack
) -> None:
    assistant = api.post(
        "/v1/ai/assistants",
        json={
            "brand_id": brand,
            "name": "2024",
            "rag_scope": "hr",
            "filters": {"year": 2024},
            "threshold": 0,
        },
        headers=admin,
    ).json()["assistant"]
    client = openai.OpenAI(base_url=f"{local_stack.url}/v1", api_key=mint("ops", [brand]), max_retries=0)
    question = [{"role": "user", "content": "What is the travel policy?"}]
    model = f"assistant:{assistant['assistant_id']}"

    def cited(**extra: Any) -> list[str]:
        raw = client.chat.completions.with_raw_response.create(model=model, messages=question, **extra)
        return sorted(
            {c["document_id"] for c in raw.http_response.json()["choices"][0]["message"]["citations"]}
        )

    assert cited() == ["travel-2024-en", "travel-2024-fr"]
    assert cited(extra_body={"filters": {"lang": "fr"}}) == ["travel-2024-fr"]
    with pytest.raises(openai.PermissionDeniedError) as wider:
        client.chat.completions.create(model=model, messages=question, extra_body={"filters": {"year": 2022}})
    with pytest.raises(openai.BadRequestError) as plain:
        client.chat.completions.create(
            model="parley-offline", messages=question, extra_body={"filters": {"lang": "fr"}}
        )
    assert wider.value.code == "filter_outside_pin"
    assert plain.value.code == "invalid_filters"


def test_date_bounds_draw_the_same_edge_in_every_store(
    api: httpx.Client, admin: dict[str, str], brand: str, vector_backend: VectorBackend
) -> None:
    """Dates compare in whole milliseconds on both stores, finer digits dropped on both sides."""
    stamps = {
        "early": "2024-01-01T00:00:00.0001Z",
        "same-ms": "2024-01-01T00:00:00.0009Z",
        "next-ms": "2024-01-01T00:00:00.001Z",
        "big": "2024-01-01T00:00:00.002000+00:00",
    }
    documents = [
        {
            "brand_id": brand,
            "rag_scope": "hr",
            "document_id": name,
            "content": f"Travel policy note {name}.",
            "metadata": {"on": stamp},
        }
        for name, stamp in stamps.items()
    ]
    assert api.post("/v1/ai/documents", json={"documents": documents}, headers=admin).status_code == 201
    vector_backend.settle()

    after = ask(api, admin, brand, filters={"on": {"gt": "2024-01-01T00:00:00.0005Z"}})
    from_ = ask(api, admin, brand, filters={"on": {"gte": "2024-01-01T00:00:00.0005Z"}})
    until = ask(api, admin, brand, filters={"on": {"lte": "2024-01-01T00:00:00.0019999Z"}})
    huge = ask(api, admin, brand, filters={"n": 2**63})

    assert sources(after) == ["big", "next-ms"]
    assert sources(from_) == sorted(stamps)
    assert sources(until) == ["early", "next-ms", "same-ms"]
    assert huge.status_code == 400 and "an integer is between" in huge.json()["message"]
