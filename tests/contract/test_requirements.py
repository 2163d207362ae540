"""Dependencies are declared once (pyproject.toml) and pinned once (constraints.txt); the layer's
requirements are derived from both and must not drift."""

from __future__ import annotations

from local.requirements import (
    LAYER_REQUIREMENTS,
    RUNTIME_PROVIDED,
    canonical,
    pins,
    render,
    runtime_dependencies,
)


def test_the_layer_requirements_are_derived_from_pyproject_and_the_constraints() -> None:
    assert LAYER_REQUIREMENTS.read_text() == render(), "run `make requirements` and commit the result"


def test_every_runtime_dependency_is_pinned_and_the_runtimes_own_sdk_is_left_out() -> None:
    pinned = pins()
    shipped = {line.split("==")[0] for line in LAYER_REQUIREMENTS.read_text().splitlines() if "==" in line}

    assert all(canonical(r.name) in pinned for r in runtime_dependencies())
    assert {canonical(r.name) for r in runtime_dependencies()} - RUNTIME_PROVIDED <= shipped
    assert shipped.isdisjoint(RUNTIME_PROVIDED)
