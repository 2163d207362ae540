"""The web app of a streaming function, behind the AWS Lambda Web Adapter.

Lambda's managed Python runtime cannot write a response stream (AWS documents response
streaming for Node.js, and the Lambda Web Adapter or a custom runtime for other languages). The
adapter (a layer; AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap) starts `run.sh`, which runs this
server, and turns each invocation into an HTTP request to it: the API Gateway request context
in the `x-amzn-request-context` header, the Lambda context in `x-amzn-lambda-context`. This
server rebuilds the API Gateway event from them, calls the function's `stream_handler` with a
writer on its connection (chunked, flushed per write), and the adapter streams that response
back (AWS_LWA_INVOKE_MODE=response_stream). One request at a time, as Lambda sends them.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

READY_PATH = "/_ready"


class InvocationContext:
    """The Lambda context of an invocation, as the adapter forwards it (what Powertools reads)."""

    def __init__(self, forwarded: dict[str, Any]) -> None:
        config = forwarded.get("env_config") or {}
        self.aws_request_id = str(forwarded.get("request_id", ""))
        self.invoked_function_arn = str(forwarded.get("invoked_function_arn", ""))
        self.function_name = str(
            config.get("function_name") or os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        )
        self.function_version = str(
            config.get("version") or os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "")
        )
        self.memory_limit_in_mb = int(
            config.get("memory") or os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or 0
        )
        self.log_group_name = str(config.get("log_group", ""))
        self.log_stream_name = str(config.get("log_stream", ""))
        self._deadline_ms = int(forwarded.get("deadline") or 0)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000)) if self._deadline_ms else 0


def api_gateway_event(
    method: str, target: str, headers: dict[str, list[str]], body: bytes, request_context: dict[str, Any]
) -> dict[str, Any]:
    """The REST API (v1) proxy event this request stands for."""
    url = urlsplit(target)
    query = parse_qs(url.query, keep_blank_values=True)
    resource = str(request_context.get("resourcePath") or url.path)
    return {
        "resource": resource,
        "path": url.path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in headers.items()},
        "multiValueHeaders": headers,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters(resource, url.path),
        "stageVariables": None,
        "requestContext": request_context,
        "body": body.decode("utf-8") if body else None,
        "isBase64Encoded": False,
    }


def resource_pattern(resource: str) -> re.Pattern[str]:
    """The paths an API Gateway resource template matches: `{name}` one segment, `{name+}` the
    rest of the path (the local gateway routes with it too)."""
    regex = ""
    for part in re.split(r"(\{[^}]+\})", resource):
        if part.startswith("{") and part.endswith("+}"):
            regex += f"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            regex += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(regex)


def path_parameters(resource: str, path: str) -> dict[str, str] | None:
    """`{name}` segments of the resource template, read from the path (decoded)."""
    found = resource_pattern(resource).fullmatch(path)
    return {k: unquote(v) for k, v in found.groupdict().items()} or None if found else None


class ChunkedWriter:
    """A streamed response on an HTTP connection: chunked transfer encoding, each piece flushed as
    it is written (here, and in the local gateway). A function that wrote nothing gets the 502 API
    Gateway answers then."""

    def __init__(self, request: BaseHTTPRequestHandler) -> None:
        self.request = request
        self.started = False
        self.extra_headers: dict[str, str] = {}

    def start(self, status: int, headers: dict[str, str]) -> None:
        self.started = True
        self.request.send_response(status)
        for name, value in {**headers, **self.extra_headers}.items():
            if name.lower() not in ("content-length", "transfer-encoding"):
                self.request.send_header(name, value)
        self.request.send_header("Transfer-Encoding", "chunked")
        self.request.end_headers()
        self.request.wfile.flush()

    def write(self, data: bytes) -> None:
        if data:
            self.request.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.request.wfile.flush()

    def end(self) -> None:
        try:
            if not self.started:
                self.start(502, {"Content-Type": "application/json"})
                self.write(b'{"message": "Internal server error"}')
            self.request.wfile.write(b"0\r\n\r\n")
            self.request.wfile.flush()
        except OSError:
            pass  # the client is gone


def serve(stream_handler: Any, port: int) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == READY_PATH:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            headers: dict[str, list[str]] = {}
            for name, value in self.headers.items():
                if (
                    not name.lower().startswith("x-amzn-request-context")
                    and name.lower() != "x-amzn-lambda-context"
                ):
                    headers.setdefault(name, []).append(value)
            request_context = json.loads(self.headers.get("x-amzn-request-context") or "{}")
            context = InvocationContext(json.loads(self.headers.get("x-amzn-lambda-context") or "{}"))
            event = api_gateway_event(self.command, self.path, headers, body, request_context)
            writer = ChunkedWriter(self)
            try:
                stream_handler(event, context, writer)
            except Exception:  # the function's own error handling answered what it could
                import traceback

                traceback.print_exc()
            writer.end()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve  # noqa: N815

        def log_message(self, *_: Any) -> None:
            pass  # the function logs each request itself

    HTTPServer(("127.0.0.1", port), Handler).serve_forever()


def main() -> None:
    """Run in the function's code directory (`run.sh`): serve its `app.stream_handler`."""
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    module = importlib.import_module("app")
    serve(module.stream_handler, int(os.environ.get("AWS_LWA_PORT", "8080")))


if __name__ == "__main__":
    main()
