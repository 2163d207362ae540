"""The local Lambda runtime: a container is a process serving one request at a time, reused while
the configuration stays the same, replaced when it changes, kept when its handler raises, and
discarded when it runs past its timeout, as Lambda does with execution environments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.lambda_runtime import FunctionPool, FunctionTimeout, HandlerError
from local.template import FunctionSpec

pytestmark = pytest.mark.integration

HANDLER = """
import os
import time

calls = 0  # module state: per container


def lambda_handler(event, context):
    global calls
    calls += 1
    if event.get("raise"):
        raise ValueError("refused")
    time.sleep(event.get("sleep", 0))
    print("handled", event.get("n"))
    return {"pid": os.getpid(), "calls": calls, "setting": os.environ.get("PROBE_SETTING")}
"""


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[FunctionPool]:
    (tmp_path / "app.py").write_text(HANDLER)
    pool = FunctionPool(FunctionSpec("ProbeFunction", tmp_path, "app.lambda_handler", timeout=2))
    yield pool
    pool.close()


def test_a_container_is_reused_and_keeps_its_module_state(
    pool: FunctionPool, capfd: pytest.CaptureFixture[str]
) -> None:
    first, second = pool.invoke({"n": 1}), pool.invoke({"n": 2})

    assert first["pid"] == second["pid"] and second["calls"] == 2
    assert pool.cold_starts == 1
    assert "handled 1" in capfd.readouterr().out  # the function's output is relayed


def test_a_changed_configuration_gets_a_new_container(
    pool: FunctionPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = pool.invoke({})
    monkeypatch.setenv("PROBE_SETTING", "changed")

    after = pool.invoke({})

    assert after["pid"] != before["pid"] and after["setting"] == "changed" and after["calls"] == 1


def test_a_handler_error_keeps_the_container_and_a_timeout_discards_it(pool: FunctionPool) -> None:
    warm = pool.invoke({})

    with pytest.raises(HandlerError, match="refused"):
        pool.invoke({"raise": True})
    kept = pool.invoke({})
    with pytest.raises(FunctionTimeout):
        pool.invoke({"sleep": 5})
    replaced = pool.invoke({})

    assert kept["pid"] == warm["pid"] and kept["calls"] == 3
    assert replaced["pid"] != warm["pid"] and replaced["calls"] == 1
