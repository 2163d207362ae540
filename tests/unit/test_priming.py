"""SnapStart priming registers a before-snapshot hook only inside a Lambda Python runtime."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

import pytest

from parley.providers.priming import register_snapstart_priming


def test_outside_lambda_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as outside Lambda

    assert register_snapstart_priming() is False


def test_inside_lambda_the_hook_imports_both_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    hooks: list[Callable[[], None]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_before_snapshot = hooks.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    for sdk in ("openai", "anthropic"):
        monkeypatch.delitem(sys.modules, sdk, raising=False)

    assert register_snapstart_priming() is True
    assert len(hooks) == 1 and "openai" not in sys.modules

    hooks[0]()

    assert "openai" in sys.modules and "anthropic" in sys.modules
