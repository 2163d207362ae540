"""What a test or `make dev` starts does not outlive it: a parent killed outright (no cleanup
runs) still takes its DynamoDB Local, its moto server and its OpenSearch node along."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from local.dynamodb import free_port
from local.template import ROOT
from tests.integration.vector_chunks import eventually

pytestmark = pytest.mark.integration

# Each starts the service and prints the port it listens on.
STARTS = {
    "DynamoDB Local": "from local.dynamodb import DynamoDBLocal as S; print(S({port}).start().port)",
    "moto's server": "from local.files_stack import FilesStack as S; print(S('us-east-1').start().port)",
    "OpenSearch": "from local.opensearch_node import OpenSearchNode as S; print(S({port}).start().port)",
}


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("service", sorted(STARTS))
def test_a_parent_killed_outright_takes_the_service_along(service: str) -> None:
    script = (
        STARTS[service].format(port=free_port()) + "; import sys, time; sys.stdout.flush(); time.sleep(600)"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    port = int(parent.stdout.readline())
    assert listening(port)

    parent.kill()  # SIGKILL: no finally, no atexit
    parent.wait()

    assert not eventually(lambda: listening(port), until=lambda up: not up, seconds=60)
