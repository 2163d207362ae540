"""A proxy in front of DynamoDB Local, where the functions' DynamoDB endpoint points in tests.

It records what each request cost (for the cost-budget tests, whatever process made the call)
and injects the faults DynamoDB Local never produces, as DynamoDB's API documents them:
throttling (`ThrottlingException`, `ProvisionedThroughputExceededException`), cancelled
transactions (`TransactionCanceledException` with `TransactionConflict` / `ThrottlingError`
reasons), internal errors (HTTP 500) and requests that never get an answer (a read timeout).
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.doubles.capacity import CapacityRecorder, ItemSizes

_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


@dataclass
class Fault:
    """One injected answer for the next request to `operation` (None: any operation)."""

    operation: str | None
    status: int = 400
    body: dict[str, Any] = field(default_factory=dict)
    hang_seconds: float = 0.0  # answer nothing for this long, then close the connection
    applied_then_reset: bool = False  # pass the request on, then reset the connection unanswered


def throttled(operation: str | None = None) -> Fault:
    return Fault(
        operation, 400, {"__type": _ERROR_PREFIX + "ThrottlingException", "message": "Rate exceeded"}
    )


def cancelled(reasons: list[str], operation: str = "TransactWriteItems") -> Fault:
    return Fault(
        operation,
        400,
        {
            "__type": _ERROR_PREFIX + "TransactionCanceledException",
            "message": f"Transaction cancelled, please refer cancellation reasons for specific reasons {reasons}",  # noqa: E501 (the service's text)
            "CancellationReasons": [{"Code": reason} for reason in reasons],
        },
    )


def internal_error(operation: str | None = None) -> Fault:
    return Fault(
        operation, 500, {"__type": _ERROR_PREFIX + "InternalServerError", "message": "Internal error"}
    )


def unanswered(operation: str | None = None, seconds: float = 8.0) -> Fault:
    return Fault(operation, hang_seconds=seconds)


def applied_then_reset(operation: str | None = None) -> Fault:
    """DynamoDB applies the request, and its answer is lost: the connection is reset."""
    return Fault(operation, applied_then_reset=True)


class DynamoDBProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self._faults: deque[Fault] = deque()
        self._recorders: list[CapacityRecorder] = []
        self._lock = threading.Lock()
        self.requests: list[str] = []  # operations received, faulted or not
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
                fault = proxy._take_fault(operation)
                if fault is not None and fault.hang_seconds:
                    time.sleep(fault.hang_seconds)
                    self.close_connection = True
                    return
                if fault is not None and fault.applied_then_reset:
                    proxy._forward(self.command, self.path, dict(self.headers), body)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    os.close(self.connection.detach())  # with linger 0: an RST
                    self.close_connection = True
                    return
                headers: dict[str, str] = {}
                if fault is not None:
                    status, payload = fault.status, json.dumps(fault.body).encode()
                else:
                    sizes = proxy._sizes(operation, body)
                    status, headers, payload = proxy._forward(
                        self.command, self.path, dict(self.headers), body
                    )
                    proxy._record(operation, status, payload, sizes)
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "date",
                        "server",
                    ):
                        self.send_header(name, value)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._stopping = False
        threading.Thread(target=self._serve, name="dynamodb-proxy", daemon=True).start()

    def _serve(self) -> None:
        """Serve until stopped. A unit test blocks this process's sockets while it runs
        (pytest-socket), so a function still writing after its test ended (a stream's last run, a
        cancelled generation's charge) finds its connection refused then; that request fails and
        is retried by the SDK, and the proxy goes on serving the tests after it."""
        while not self._stopping:
            try:
                self.httpd.serve_forever()
            except Exception:  # pytest-socket's refusal, raised from accept()
                continue

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.requests.clear()

    @contextmanager
    def recording(self) -> Iterator[CapacityRecorder]:
        recorder = CapacityRecorder()
        with self._lock:
            self._recorders.append(recorder)
        try:
            yield recorder
        finally:
            with self._lock:
                self._recorders.remove(recorder)

    def stop(self) -> None:
        self._stopping = True
        self.httpd.shutdown()
        self.httpd.server_close()

    def _take_fault(self, operation: str) -> Fault | None:
        with self._lock:
            self.requests.append(operation)
            for position, fault in enumerate(self._faults):
                if fault.operation in (None, operation):
                    del self._faults[position]
                    return fault
        return None

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        host = self.upstream.hostname or "127.0.0.1"
        connection = http.client.HTTPConnection(host, self.upstream.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def _sizes(self, operation: str, body: bytes) -> ItemSizes | None:
        """For a TransactWriteItems while something records: its items' sizes before it runs."""
        with self._lock:
            if not self._recorders or operation != "TransactWriteItems":
                return None
        return ItemSizes(json.loads(body or b"{}"), self._read)

    def _read(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        request = json.dumps({"TableName": table, "Key": key, "ConsistentRead": True}).encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.GetItem",
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0",
        }
        status, _, payload = self._forward("POST", "/", headers, request)
        found: dict[str, Any] | None = json.loads(payload).get("Item") if status == 200 else None
        return found

    def _record(self, operation: str, status: int, payload: bytes, sizes: ItemSizes | None = None) -> None:
        if status != 200:
            return
        with self._lock:
            recorders = list(self._recorders)
        if not recorders:
            return
        parsed = json.loads(payload or b"{}")
        units = sizes.units() if sizes is not None else None
        for recorder in recorders:
            recorder.record(operation, parsed, units)
