"""Codex CLI (npm `@openai/codex`, installed by `make install`) doing a one-line task through
Parley's Responses API: `codex exec` with a custom model provider whose base URL is the local
gateway and whose key is a Parley token. Its requests (streamed, `store: false`, its function
tools, a namespace of tools and a hosted web search Parley does not run) are answered by the
offline model; Codex finishes with Parley's answer. Nothing leaves this machine (docs/openai.md)."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from local.template import ROOT
from tests.conftest import LocalStack, TokenFactory

pytestmark = pytest.mark.integration

CODEX = ROOT / "node_modules" / ".bin" / "codex"
CONFIG = """model = "parley-offline"
model_provider = "parley"

[model_providers.parley]
name = "Parley"
base_url = "{url}/v1"
env_key = "PARLEY_TOKEN"
wire_api = "responses"
"""


def test_codex_finishes_a_task_through_parley(
    local_stack: LocalStack, api: httpx.Client, auth: TokenFactory, tmp_path: Path
) -> None:
    brand = f"cx-{uuid.uuid4().hex[:8]}"
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    (home / ".codex" / "config.toml").write_text(CONFIG.format(url=local_stack.url))
    work = tmp_path / "work"
    work.mkdir()
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "CODEX_HOME": str(home / ".codex"),
        "PARLEY_TOKEN": auth("coder", brands=[brand])["Authorization"].removeprefix("Bearer "),
    }

    finished = subprocess.run(
        [str(CODEX), "exec", "--skip-git-repo-check", "Reply with the word ready"],
        cwd=work,
        env=environment,
        input="",
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert finished.returncode == 0, (finished.stdout + finished.stderr)[-3000:]
    assert "Offline" in finished.stdout, finished.stdout[-2000:]  # Parley's model answered
    admin = auth("ops", brands=[brand], scopes=["admin"])
    [day] = api.get("/v1/usage", params={"brand_id": brand}, headers=admin).json()["days"]
    assert day["requests"] >= 1 and [model["model"] for model in day["models"]] == ["parley-offline"]
