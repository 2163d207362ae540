"""SnapStart priming registers a before-snapshot hook only inside a Lambda Python runtime."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator

import pytest

from parley.providers.priming import register_snapstart_priming


def test_outside_lambda_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as outside Lambda

    assert register_snapstart_priming() is False


@pytest.fixture
def modules_restored() -> Iterator[None]:
    """sys.modules exactly as before the test: the SDKs it imports afresh (and every submodule
    they load lazily) must not replace the ones other tests hold."""
    saved = dict(sys.modules)
    yield
    for name in set(sys.modules) - set(saved):
        del sys.modules[name]
    sys.modules.update(saved)


@pytest.mark.usefixtures("modules_restored")
def test_inside_lambda_the_hook_imports_both_sdks() -> None:
    hooks: list[Callable[[], None]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_before_snapshot = hooks.append  # type: ignore[attr-defined]
    sys.modules["snapshot_restore_py"] = runtime
    for name in [n for n in sys.modules if n.split(".")[0] in ("openai", "anthropic")]:
        del sys.modules[name]

    assert register_snapstart_priming() is True
    assert len(hooks) == 1 and "openai" not in sys.modules

    hooks[0]()

    assert "openai" in sys.modules and "anthropic" in sys.modules
