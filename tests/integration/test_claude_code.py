"""Claude Code (npm `@anthropic-ai/claude-code`, installed by `make install`) doing a one-line task
through Parley: `claude -p` with ANTHROPIC_BASE_URL at the local gateway and a Parley token. Its
requests (streamed, with its tools, `system` turns, thinking and beta fields) are answered by the
offline model, which calls one of Claude Code's tools; Claude Code runs it, sends the result, and
finishes with Parley's answer. Nothing leaves this machine (docs/anthropic.md)."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from local.template import ROOT
from tests.conftest import LocalStack, TokenFactory

pytestmark = pytest.mark.integration

CLAUDE = ROOT / "node_modules" / ".bin" / "claude"


def test_claude_code_finishes_a_task_through_parley(
    local_stack: LocalStack, api: httpx.Client, auth: TokenFactory, tmp_path: Path
) -> None:
    brand = f"cc-{uuid.uuid4().hex[:8]}"
    token = auth("coder", brands=[brand])["Authorization"].removeprefix("Bearer ")
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ANTHROPIC_BASE_URL": local_stack.url,
        "ANTHROPIC_AUTH_TOKEN": token,
        "ANTHROPIC_MODEL": "parley-offline",
        "ANTHROPIC_SMALL_FAST_MODEL": "parley-offline",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
    }

    finished = subprocess.run(
        [str(CLAUDE), "-p", "Reply with the word ready", "--output-format", "json"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr[-2000:]
    result = json.loads(finished.stdout)
    assert result["is_error"] is False and result["terminal_reason"] == "completed", result
    assert result["result"].startswith("Offline answer from the tool result")  # Parley's model, after a tool
    assert result["num_turns"] >= 2  # a tool call, Claude Code's result, and the answer
    admin = auth("ops", brands=[brand], scopes=["admin"])
    [day] = api.get("/v1/usage", params={"brand_id": brand}, headers=admin).json()["days"]
    assert day["requests"] >= 2 and [model["model"] for model in day["models"]] == ["parley-offline"]
