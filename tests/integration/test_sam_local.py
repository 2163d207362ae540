"""`sam local invoke` reads the template as a deploy does (samconfig.toml turns on the language
extensions for every command): on this machine, without Docker, it gets as far as asking for a
container runtime, which is where it would start the function's container."""

from __future__ import annotations

import os
import subprocess

import pytest

from local.template import ROOT

pytestmark = pytest.mark.integration

SAM = ROOT / ".tools" / "sam" / "bin" / "sam"  # installed by the Makefile (make test, make build)


def test_sam_local_invoke_reads_the_template_up_to_the_container() -> None:
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    ran = subprocess.run(
        [str(SAM), "local", "invoke", "CleanupFunction", "-e", "events/cleanup.json"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    said = ran.stdout + ran.stderr

    assert "AttributeError" not in said and "has no attribute" not in said, said[-2000:]
    assert "container runtime" in said, said[-2000:]  # the template was read; Docker is what is missing
