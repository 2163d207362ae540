"""GET /v1/models names the deployment's embedder without building it (no model load, no key)."""

from __future__ import annotations

import pytest

from parley.config import Settings
from parley.providers import embedders


@pytest.mark.parametrize("kind", ["hashing", "minilm", "openai"])  # titan looks for AWS credentials
def test_the_embedders_name_is_known_without_building_it(kind: str) -> None:
    config = Settings(rag_embedder=kind, openai_api_key="sk-unit")

    assert embedders.embedder_name(config) == embedders.build_embedder(config).name
