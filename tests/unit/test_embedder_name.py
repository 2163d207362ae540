"""GET /v1/models names the deployment's embedder without building it (no model load, no key)."""

from __future__ import annotations

import pytest

from parley.config import settings
from parley.providers import embedders


@pytest.mark.parametrize("kind", ["hashing", "minilm", "openai"])  # titan looks for AWS credentials
def test_the_embedders_name_is_known_without_building_it(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", kind)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-unit")
    settings.cache_clear()
    embedders.embedder.cache_clear()
    try:
        named = embedders.embedder_name()
        built = embedders.embedder().name
    finally:
        settings.cache_clear()
        embedders.embedder.cache_clear()

    assert named == built
