"""`make dev`: DynamoDB Local (persisted under .local/, unless AWS_ENDPOINT_URL_DYNAMODB points
elsewhere), the table from template.yaml, the local gateway, and the cleanup on the template's
schedule; with RAG_VECTOR_STORE=opensearch
(`make dev RAG_STORE=opensearch`) and no OPENSEARCH_URL, an OpenSearch node persisted under
.local/opensearch too; with RAG_VECTOR_STORE=s3vectors (`make dev RAG_STORE=s3vectors`) and no
AWS_ENDPOINT_URL_S3VECTORS, the local S3 Vectors endpoint (in memory) beside moto's S3;
unless LOCAL_MODEL=off, a real chat model (local.local_model), the default
when no provider key is set. Ctrl-C stops what it started."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

from local.dynamodb import DynamoDBLocal, client, create_table, free_port, wait_until_ready
from local.files_stack import WORKER, FilesStack
from local.gateway import LocalServer
from local.invoke import DEV_ENVIRONMENT, share_dev_environment
from local.local_model import MODEL as LOCAL_MODEL
from local.local_model import LocalModel, with_local_endpoint
from local.opensearch_node import OpenSearchNode
from local.s3vectors_server import S3VectorsServer
from local.schedule import CLEANUP_FUNCTION, Schedule, interval_seconds, schedule_expression
from local.settings import DEV_PORT_FILE, local_environment
from local.template import ROOT
from parley.config import Settings, settings_from
from parley.providers.credentials import RemoteProvider, default_model, is_configured

DEFAULT_DATA_DIR = ROOT / ".local" / "dynamodb"


def describe_providers(config: Settings) -> str:
    remote: tuple[RemoteProvider, ...] = ("openai", "anthropic")
    live = ["offline (parley-offline)", *(p for p in remote if is_configured(config, p))]
    live += [f"endpoint {e.name} ({e.base_url})" for e in config.openai_compatible_endpoints]
    line = f"Providers live: {', '.join(live)}; default model: {default_model(config)}."
    if missing := [p for p in remote if not is_configured(config, p)]:
        settings_needed = " / ".join(f"{p.upper()}_API_KEY" for p in missing)
        line += f" Not configured: {', '.join(missing)} (set {settings_needed})."
    return line


def start_s3vectors() -> S3VectorsServer | None:
    """The local S3 Vectors endpoint with a vector bucket, unless one is configured."""
    if os.environ.get("AWS_ENDPOINT_URL_S3VECTORS"):
        print(f"S3 Vectors: using {os.environ['AWS_ENDPOINT_URL_S3VECTORS']} (AWS_ENDPOINT_URL_S3VECTORS)")
        return None
    server = S3VectorsServer(int(os.environ.get("S3VECTORS_PORT") or 0))
    bucket = os.environ.setdefault("S3VECTORS_BUCKET", "parley-local-vectors")
    server.state.create_vector_bucket({"vectorBucketName": bucket})
    os.environ["AWS_ENDPOINT_URL_S3VECTORS"] = server.url
    print(f"S3 Vectors (local, in memory: ingest again after a restart): {server.url}, bucket {bucket}")
    return server


def start_opensearch() -> OpenSearchNode | None:
    """The node the functions index into, unless OPENSEARCH_URL names one already."""
    if os.environ.get("OPENSEARCH_URL"):
        print(f"OpenSearch: using {os.environ['OPENSEARCH_URL']} (OPENSEARCH_URL)")
        return None
    data_dir = Path(os.environ.get("OPENSEARCH_DATA_DIR") or ROOT / ".local" / "opensearch")
    data_dir.mkdir(parents=True, exist_ok=True)
    node = OpenSearchNode(int(os.environ.get("OPENSEARCH_PORT") or free_port()), data_dir).start()
    os.environ.update({"OPENSEARCH_URL": node.url, "OPENSEARCH_SERVICE": "none"})
    print(f"OpenSearch 2.19 with k-NN: {node.url}, data in {data_dir}")
    return node


def start_local_model() -> LocalModel | None:
    """SmolLM2 on llama.cpp as the endpoint `local`, unless LOCAL_MODEL=off. One that cannot start
    (its port taken, say) is said, and Parley runs on without it."""
    if os.environ.get("LOCAL_MODEL", "on").lower() == "off":
        print("Local model: off (LOCAL_MODEL=off)")
        return None
    port = int(os.environ.get("LOCAL_MODEL_PORT") or free_port())
    try:
        model = LocalModel(port).start()
    except (RuntimeError, OSError) as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        print(f"Local model: not started on port {port} ({reason}); LOCAL_MODEL=off skips it")
        return None
    current = os.environ.get("OPENAI_COMPATIBLE_ENDPOINTS", "")
    os.environ["OPENAI_COMPATIBLE_ENDPOINTS"] = with_local_endpoint(current, model.url)
    print(f"Local model: {LOCAL_MODEL} (SmolLM2-135M-Instruct on llama.cpp, 1 thread) at {model.url}")
    return model


def serve(port: int, files: FilesStack) -> tuple[LocalServer, Schedule]:
    """The gateway, the upload worker's poller and the cleanup's schedule; what they are, said."""
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = f"http://127.0.0.1:{port}"  # background responses' worker
    server = LocalServer(port).start()
    files.poll(server.gateway.pools[WORKER])
    expression = schedule_expression()
    cleanup = Schedule(server.gateway.pools[CLEANUP_FUNCTION].invoke, interval_seconds(expression)).start()
    print(f"Cleanup: {expression}, the template's schedule (make cleanup runs it now)")
    DEV_PORT_FILE.parent.mkdir(parents=True, exist_ok=True)
    DEV_PORT_FILE.write_text(str(port))
    share_dev_environment()  # for make invoke
    print(f"Parley is listening on {server.url}")
    print(describe_providers(settings_from(os.environ)))
    print("Mint a token:  make token SUB=alice BRANDS=acme")
    print("Stop with Ctrl-C.")
    sys.stdout.flush()
    return server, cleanup


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    port = int(os.environ.get("PORT", "3000"))
    database = None
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if endpoint:
        wait_until_ready(endpoint, timeout=10)
        print(f"DynamoDB: using {endpoint} (AWS_ENDPOINT_URL_DYNAMODB)")
    else:
        ddb_port = int(os.environ.get("DYNAMODB_PORT") or free_port())
        data_dir = Path(os.environ.get("LOCAL_DATA_DIR") or DEFAULT_DATA_DIR)
        database = DynamoDBLocal(ddb_port, data_dir).start()
        endpoint = database.endpoint
        print(f"DynamoDB Local: {endpoint}, data in {data_dir}")
    os.environ.update(local_environment(endpoint))
    created = create_table(client(endpoint), os.environ["TABLE_NAME"])
    print(f"Table {os.environ['TABLE_NAME']}: {'created' if created else 'exists'}")
    node = start_opensearch() if os.environ["RAG_VECTOR_STORE"] == "opensearch" else None
    vectors = start_s3vectors() if os.environ["RAG_VECTOR_STORE"] == "s3vectors" else None
    local_model = start_local_model()
    files = FilesStack(os.environ["AWS_REGION"]).start()
    os.environ.update(files.environment())
    print(f"Files: S3 and SQS (moto) at {files.endpoint}, bucket {os.environ['FILES_BUCKET']}")

    server, cleanup = serve(port, files)

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping…")
        if DEV_PORT_FILE.exists() and DEV_PORT_FILE.read_text() == str(port):
            DEV_PORT_FILE.unlink()
            DEV_ENVIRONMENT.unlink(missing_ok=True)
        cleanup.stop()
        files.stop()
        server.stop()
        if node:
            node.stop()
        if vectors:
            vectors.stop()
        if local_model:
            local_model.stop()
        if database:
            database.stop()


if __name__ == "__main__":
    main()
