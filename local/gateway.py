"""The local API Gateway: routes from template.yaml, the same REST (payload 1.0) events, the same
REQUEST authorizer, the same gateway responses, then the function's own `lambda_handler`."""

from __future__ import annotations

import fnmatch
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from local import docs, lambda_api, playground
from local.lambda_runtime import FunctionPool, FunctionTimeout
from local.loopback import foreign
from local.schedule import CLEANUP_FUNCTION, scheduled_event
from local.template import Route, Template, load
from parley.edge.web_adapter import ChunkedWriter

log = logging.getLogger("parley.gateway")

STAGE = "dev"
ACCOUNT = "123456789012"
API_ID = "local"
MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit, below API Gateway's 10 MB


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, list[str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"

    @property
    def raw_path(self) -> str:
        return urlsplit(self.url).path

    @property
    def path(self) -> str:
        """The path as API Gateway hands it to a function: percent-decoded (`doc%3A0` is `doc:0`)."""
        return unquote(self.raw_path)

    @property
    def query(self) -> str:
        return urlsplit(self.url).query


class Gateway:
    def __init__(self, template: Template | None = None) -> None:
        self.template = template or load()
        self.pools = {name: FunctionPool(spec) for name, spec in self.template.functions.items()}

    def close(self) -> None:
        """Stop every function's containers."""
        for pool in self.pools.values():
            pool.close()

    def handle(
        self, request: HttpRequest, writer: ChunkedWriter | None = None
    ) -> tuple[int, dict[str, str], bytes] | None:
        """One request through the gateway: returns (status, headers, body), or None when a
        streaming function wrote its response to `writer` (API Gateway's STREAM transfer mode)."""
        if (local := self.local_service(request)) is not None:
            return local
        if len(request.body) > MAX_BODY_BYTES:
            return self.gateway_response("REQUEST_TOO_LARGE", 413, "Request Too Long")
        route, path_parameters = self.route(request.method, request.raw_path)
        if route is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        event = self.event(route, request, path_parameters)
        if route.authorized and self.template.authorizer:
            denied = self._authorize(event)
            if denied is not None:
                return denied
        if route.api_key_required and not event["requestContext"]["identity"].get("apiKey"):
            return self.gateway_response("INVALID_API_KEY", 403, "Forbidden")  # no usage plan meters it
        request_id = {"x-amzn-RequestId": event["requestContext"]["requestId"]}  # as API Gateway answers
        streams = writer is not None and self.template.functions[route.function].streaming
        if streams:
            assert writer is not None
            writer.extra_headers = request_id
        try:
            result = self.pools[route.function].invoke(event, writer if streams else None)
        except FunctionTimeout:
            log.exception("function timed out")
            return self.gateway_response("DEFAULT_5XX", 502, "Internal server error")
        except Exception:
            log.exception("function raised")
            return self.gateway_response("DEFAULT_5XX", 502, "Internal server error")
        if streams:
            return None
        status, headers, body = self._proxy_response(result)
        return status, {**headers, **request_id}, body

    def local_service(self, request: HttpRequest) -> tuple[int, dict[str, str], bytes] | None:
        """What this port serves besides the API: the docs, the playground, `make cleanup`, and
        Lambda's Invoke API (for the functions' asynchronous invocations)."""
        if request.method == "GET" and (documentation := docs.serve(request.path)) is not None:
            return documentation
        headers = {name.lower(): values[-1] for name, values in request.headers.items()}
        if (page := playground.serve(request.method, request.path, request.body, headers)) is not None:
            return page
        if request.method == "POST" and request.path == "/local/cleanup":
            return self.cleanup_now(headers)
        if request.method == "POST" and request.path.startswith("/2015-03-31/functions/"):
            return lambda_api.invoke(self.pools, request.path, headers, request.body)
        return None

    def cleanup_now(self, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """`make cleanup`: the cleanup function once, now, with the event its schedule sends."""
        if (refusal := foreign(headers, "The cleanup runs")) is not None:
            return refusal
        report = self.pools[CLEANUP_FUNCTION].invoke(scheduled_event(datetime.now(UTC)))
        return 200, {"Content-Type": "application/json"}, json.dumps(report).encode()

    def route(self, method: str, raw_path: str) -> tuple[Route | None, dict[str, str]]:
        """The route of a request and its path parameters, decoded. Routes match the raw path, so
        an encoded slash (`%2F`) stays inside its segment."""
        for route in self.template.routes:
            parameters = route.match(method, raw_path)
            if parameters is not None:
                return route, {name: unquote(value) for name, value in parameters.items()}
        return None, {}

    def event(self, route: Route, request: HttpRequest, path_parameters: dict[str, str]) -> dict[str, Any]:
        method, path, headers, body = request.method, request.path, request.headers, request.body
        multi_query = parse_qs(request.query, keep_blank_values=True)
        now = time.time()
        text = body.decode("utf-8", errors="replace") if body else None
        return {
            "resource": route.resource,
            "path": path,
            "httpMethod": method,
            "headers": {name: values[-1] for name, values in headers.items()} or None,
            "multiValueHeaders": headers or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "accountId": ACCOUNT,
                "apiId": API_ID,
                "resourceId": "local",
                "resourcePath": route.resource,
                "httpMethod": method,
                "path": f"/{STAGE}{path}",
                "stage": STAGE,
                "protocol": "HTTP/1.1",
                "requestId": str(uuid.uuid4()),
                "extendedRequestId": str(uuid.uuid4()),
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "requestTimeEpoch": int(now * 1000),
                "domainName": "localhost",
                "identity": {
                    "sourceIp": request.source_ip,
                    "userAgent": (headers.get("User-Agent") or [""])[-1],
                },
            },
            "body": text,
            "isBase64Encoded": False,
        }

    def authorizer_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """The REQUEST authorizer's input for a request event, as API Gateway builds it."""
        method_arn = (
            f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/{STAGE}/{event['httpMethod']}{event['path']}"
        )
        shared = (
            "resource",
            "path",
            "httpMethod",
            "headers",
            "multiValueHeaders",
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "pathParameters",
            "stageVariables",
            "requestContext",
        )
        return {"type": "REQUEST", "methodArn": method_arn, **{k: event[k] for k in shared}}

    def _authorize(self, event: dict[str, Any]) -> tuple[int, dict[str, str], bytes] | None:
        """Run the REQUEST authorizer; on Allow, put its context into the event as API Gateway does."""
        authorizer_event = self.authorizer_event(event)
        method_arn = authorizer_event["methodArn"]
        try:
            result = self.pools[self.template.authorizer].invoke(authorizer_event)  # type: ignore[index]
        except Exception as error:
            if str(error) == "Unauthorized":
                return self.gateway_response("UNAUTHORIZED", 401, "Unauthorized")
            log.exception("authorizer failed")
            return self.gateway_response("AUTHORIZER_FAILURE", 500, "Authorizer error")
        context = {
            k: v for k, v in (result.get("context") or {}).items() if isinstance(v, str | int | float | bool)
        }
        if not _allows(result.get("policyDocument", {}), method_arn):
            return self.gateway_response(
                "ACCESS_DENIED", 403, "User is not authorized to access this resource", context
            )
        event["requestContext"]["authorizer"] = {"principalId": result.get("principalId"), **context}
        if result.get("usageIdentifierKey"):  # API key source AUTHORIZER: the key the plan meters
            event["requestContext"]["identity"]["apiKey"] = result["usageIdentifierKey"]
        return None

    def _proxy_response(self, result: Any) -> tuple[int, dict[str, str], bytes]:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            log.error("malformed Lambda proxy response: %r", result)
            return self.gateway_response("DEFAULT_5XX", 502, "Internal server error")
        headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(str(v) for v in values)
        body = result.get("body") or ""
        return result["statusCode"], headers, body.encode("utf-8") if isinstance(body, str) else body

    def gateway_response(
        self, kind: str, default_status: int, message: str, authorizer: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """API Gateway's own response of this kind, templated as the template's GatewayResponses say
        (falling back to DEFAULT_4XX / DEFAULT_5XX as API Gateway does); `$context.authorizer.<key>`
        is the authorizer's context (a Deny's)."""
        fallback = "DEFAULT_5XX" if default_status >= 500 else "DEFAULT_4XX"
        responses = self.template.gateway_responses
        spec = responses.get(kind) or responses.get(fallback)
        status = spec.status if spec and spec.status else default_status
        template = spec.template if spec else None
        body = (
            template.replace("$context.error.messageString", json.dumps(message))
            if template
            else json.dumps({"message": message})
        )
        for key, value in (authorizer or {}).items():
            body = body.replace(f"$context.authorizer.{key}", str(value))
        return status, {"Content-Type": "application/json", **(spec.headers if spec else {})}, body.encode()


def _allows(policy: dict[str, Any], method_arn: str) -> bool:
    def matches(statement: dict[str, Any]) -> bool:
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        return any(fnmatch.fnmatchcase(method_arn, pattern) for pattern in resources)

    statements = policy.get("Statement", [])
    if any(s.get("Effect") == "Deny" and matches(s) for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and matches(s) for s in statements)


class _RequestHandler(BaseHTTPRequestHandler):
    gateway: Gateway
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK hold the body back ~40 ms on every keep-alive response.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name, []).append(value)
        request = HttpRequest(self.command, self.path, headers, body, self.client_address[0])
        writer = ChunkedWriter(self)
        answer = self.gateway.handle(request, writer)
        if answer is None:
            writer.end()
            return
        if writer.started:  # failed after the stream began: the connection ends short, as in AWS
            self.close_connection = True
            return
        status, response_headers, payload = answer
        self.send_response(status)
        for name, value in response_headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def __getattr__(self, name: str) -> Any:
        """Every method reaches the gateway, as with API Gateway: an undeclared one (TRACE,
        QUERY, ...) is "no such route", not the HTTP server's 501."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 resets connections when many clients connect at once.
    request_queue_size = 128
    daemon_threads = True


class LocalServer:
    """The gateway on a real HTTP port, in a background thread."""

    def __init__(self, port: int, host: str = "127.0.0.1", gateway: Gateway | None = None) -> None:
        self.gateway = gateway or Gateway()
        handler = type("Handler", (_RequestHandler,), {"gateway": self.gateway})
        self.httpd = _Server((host, port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="gateway", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def start(self) -> LocalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.gateway.close()
