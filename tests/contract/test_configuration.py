"""docs/configuration.md is generated from the settings model and must not drift from it."""

from __future__ import annotations

from local.configuration import PAGE, render
from parley.config import Settings


def test_the_configuration_page_matches_the_settings_model() -> None:
    assert PAGE.read_text() == render(), "docs/configuration.md is stale: run `make configuration`"


def test_every_setting_is_described() -> None:
    assert [name for name, field in Settings.model_fields.items() if not field.description] == []
