"""POST /v1/embeddings on Parley's tenancy: metered in the brand (the X-Parley-Brand header's, else
the token's one brand) like every OpenAI-compatible route, counted in the usage report, and
bounded by the request's deadline with a 413 that embeds nothing."""

from __future__ import annotations

import uuid

import openai
import pytest

from local.token import mint
from tests.conftest import LocalStack

pytestmark = pytest.mark.integration

MODEL = "parley-embedding"


def client(local_stack: LocalStack, token: str, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{local_stack.url}/v1", api_key=token, max_retries=0, timeout=60, default_headers=headers
    )


def test_embeddings_follow_the_brand_rule_of_the_openai_routes(local_stack: LocalStack) -> None:
    acme, globex = f"emb-{uuid.uuid4().hex[:6]}", f"emb-{uuid.uuid4().hex[:6]}"
    token = mint("embedder", [acme, globex])

    with pytest.raises(openai.BadRequestError) as unnamed:
        client(local_stack, token).embeddings.create(model=MODEL, input=["a text"])
    with pytest.raises(openai.PermissionDeniedError):
        client(local_stack, token, **{"X-Parley-Brand": "initech"}).embeddings.create(model=MODEL, input="x")
    named = client(local_stack, token, **{"X-Parley-Brand": acme}).embeddings.create(model=MODEL, input="x")

    assert unnamed.value.code == "brand_required"
    assert len(named.data) == 1


def test_embeddings_are_metered_in_the_brands_usage(local_stack: LocalStack) -> None:
    brand = f"emb-{uuid.uuid4().hex[:6]}"
    token = mint("embedder", [brand], ["ai:chat", "admin"])

    made = client(local_stack, token).embeddings.create(model=MODEL, input=["one text", "and another"])
    report = client(local_stack, token)._client.get(
        f"{local_stack.url}/v1/usage",
        params={"brand_id": brand},
        headers={"Authorization": f"Bearer {token}"},
    )

    models = [m for day in report.json()["days"] for m in day["models"]]
    assert [(m["model"], m["calls"], m["prompt_tokens"]) for m in models] == [
        (made.model, 1, made.usage.prompt_tokens)
    ]


def test_more_inputs_than_the_deadline_allows_are_a_413_before_any_is_embedded(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_DEADLINE_SECONDS", "0.001")  # no embedder keeps pace with that
    brand = f"emb-{uuid.uuid4().hex[:6]}"
    token = mint("embedder", [brand], ["ai:chat", "admin"])
    texts = [f"text number {n} about travel policies and their exceptions" for n in range(2_048)]

    with pytest.raises(openai.APIStatusError) as refused:
        client(local_stack, token).embeddings.create(model=MODEL, input=texts)

    assert refused.value.status_code == 413
    assert refused.value.code == "batch_too_large" and "2048 inputs" in refused.value.message
