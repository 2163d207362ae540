"""A local HTTP server that speaks Amazon Bedrock Runtime as boto3 calls it: Converse (`POST
/model/{modelId}/converse`, JSON), ConverseStream (`/converse-stream`, answered in the AWS
event-stream framing: prelude, headers, payload, CRC32s) and InvokeModel for Titan Text
Embeddings V2 (`/invoke`), and ApplyGuardrail (tests.doubles.fake_guardrail). It refuses what
Bedrock refuses (an unsigned request, a model it does not serve, turns that do not alternate
from the user's, a toolResult answering no toolUse of the turn before), and plays throttling
(429 ThrottlingException, which boto3 retries) and errors mid-stream. Shapes follow the Bedrock
Runtime API reference."""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import zlib
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from tests.doubles.fake_guardrail import ROUTE as GUARDRAIL_ROUTE
from tests.doubles.fake_guardrail import GuardrailPolicy, apply_guardrail

MODELS = {
    "amazon.nova-lite-v1:0",
    "amazon.nova-pro-v1:0",
    "us.amazon.nova-lite-v1:0",
    "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
}
TITAN = "amazon.titan-embed-text-v2:0"
_ROUTE = re.compile(r"^/model/(?P<model>[^/]+)/(?P<action>converse|converse-stream|invoke)$")
_SIGNATURE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/bedrock/aws4_request, "
)


@dataclass
class BedrockScript:
    """One scripted answer: an error (status and type), a stop reason, a failure after some
    streamed pieces, usage with cache tokens."""

    status: int = 200
    error_type: str | None = None
    stop_reason: str | None = None
    fail_after: int | None = None
    usage: dict[str, int] = field(default_factory=dict)


@dataclass
class BedrockRequest:
    model: str
    action: str
    body: dict[str, Any]
    region: str


class BedrockServer:
    def __init__(self) -> None:
        self.received: list[BedrockRequest] = []
        self.scripts: deque[BedrockScript] = deque()
        self.guardrails: dict[str, GuardrailPolicy] = {}  # by guardrail id
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, payload = server.answer(self.path, dict(self.headers.items()), raw)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def script(self, *answers: BedrockScript) -> None:
        with self._lock:
            self.scripts.extend(answers)

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
        lowered = {k.lower(): v for k, v in headers.items()}
        signed = _SIGNATURE.match(lowered.get("authorization", ""))
        if not signed or "x-amz-date" not in lowered:
            return _error(
                403, "UnrecognizedClientException", "The security token included in the request is invalid."
            )
        guardrail = GUARDRAIL_ROUTE.match(path.split("?", maxsplit=1)[0])
        if guardrail is not None:
            status, kind, answer = apply_guardrail(
                self.guardrails,
                unquote(guardrail["identifier"]),
                unquote(guardrail["version"]),
                json.loads(raw or b"{}"),
            )
            if kind is not None:
                return _error(status, kind, answer["message"])
            return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
        route = _ROUTE.match(path.split("?", maxsplit=1)[0])
        if route is None:
            return _error(404, "UnknownOperationException", f"no route {path}")
        model, action = unquote(route["model"]), route["action"]
        body = json.loads(raw or b"{}")
        with self._lock:
            self.received.append(BedrockRequest(model, action, body, signed["region"]))
            script = self.scripts.popleft() if self.scripts else BedrockScript()
        if script.error_type:
            return _error(script.status, script.error_type, "scripted failure")
        if action == "invoke":
            if model != TITAN:
                return _error(400, "ValidationException", "The provided model identifier is invalid.")
            return 200, {"Content-Type": "application/json"}, json.dumps(titan_embedding(body)).encode()
        if model not in MODELS:
            return _error(400, "ValidationException", "The provided model identifier is invalid.")
        if problem := converse_problem(body):
            return _error(400, "ValidationException", problem)
        reply = converse_reply(body, script)
        if action == "converse":
            return 200, {"Content-Type": "application/json"}, json.dumps(reply).encode()
        return (
            200,
            {"Content-Type": "application/vnd.amazon.eventstream"},
            b"".join(stream_events(reply, script)),
        )


def _error(status: int, kind: str, message: str) -> tuple[int, dict[str, str], bytes]:
    return (
        status,
        {"Content-Type": "application/json", "x-amzn-ErrorType": kind},
        json.dumps({"message": message}).encode(),
    )


def converse_problem(body: dict[str, Any]) -> str | None:
    messages = body.get("messages") or []
    if not messages:
        return "A conversation must start with a user message."
    if messages[0]["role"] != "user":
        return "A conversation must start with a user message."
    if "system" in body and not all(
        isinstance(b, dict) and ("text" in b or "cachePoint" in b) for b in body["system"]
    ):
        return "system: each block needs text or a cachePoint"
    previous: dict[str, Any] | None = None
    for message in messages:
        if previous is not None and previous["role"] == message["role"]:
            return "A conversation must alternate between user and assistant roles."
        offered = {b["toolUse"]["toolUseId"] for b in (previous or {}).get("content", []) if "toolUse" in b}
        for block in message["content"]:
            if "toolResult" in block and block["toolResult"]["toolUseId"] not in offered:
                return (
                    "The number of toolResult blocks exceeds the number of toolUse blocks of previous turn."
                )
        previous = message
    return None


def converse_reply(body: dict[str, Any], script: BedrockScript) -> dict[str, Any]:
    last = body["messages"][-1]
    results = [b["toolResult"]["content"][0]["text"] for b in last["content"] if "toolResult" in b]
    question = " ".join(b["text"] for b in last["content"] if "text" in b)
    text = f"Echo: tool said {' | '.join(results)}" if results else f"Echo: {question}"
    content: list[dict[str, Any]] = [{"text": text}]
    stop = script.stop_reason or "end_turn"
    tools = (body.get("toolConfig") or {}).get("tools") or []
    if tools and not results:
        choice = (body["toolConfig"].get("toolChoice") or {}).get("tool") or {}
        name = choice.get("name") or tools[0]["toolSpec"]["name"]
        digest = hashlib.sha256(text.encode()).hexdigest()[:20]
        content = [{"toolUse": {"toolUseId": f"tooluse_{digest}", "name": name, "input": {"query": text}}}]
        stop = "tool_use"
    prompt = sum(len(b.get("text", "").split()) for m in body["messages"] for b in m["content"]) + 10
    usage = {"inputTokens": prompt, "outputTokens": len(text.split()), **script.usage}
    usage["totalTokens"] = usage["inputTokens"] + usage["outputTokens"]
    reply: dict[str, Any] = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": usage,
        "metrics": {"latencyMs": 42},
    }
    if stop == "guardrail_intervened":
        reply["output"]["message"]["content"] = [{"text": "Sorry, I can't help with that."}]
        reply["trace"] = {"guardrail": {"inputAssessment": {"scripted": {"action": "GUARDRAIL_INTERVENED"}}}}
    return reply


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One message of the AWS event-stream encoding: total and header lengths, the prelude's
    CRC32, string headers (type 7), the payload, and the whole message's CRC32."""
    encoded = b"".join(
        bytes([len(name)]) + name.encode() + b"\x07" + len(value.encode()).to_bytes(2, "big") + value.encode()
        for name, value in headers.items()
    )
    prelude = (12 + len(encoded) + len(payload) + 4).to_bytes(4, "big") + len(encoded).to_bytes(4, "big")
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + encoded + payload
    return message + zlib.crc32(message).to_bytes(4, "big")


def _event(kind: str, data: dict[str, Any]) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, json.dumps(data).encode())


def stream_events(reply: dict[str, Any], script: BedrockScript) -> list[bytes]:
    """The reply as ConverseStream sends it; `fail_after` pieces a throttlingException instead."""
    events = [_event("messageStart", {"role": "assistant"})]
    pieces = 0
    for index, block in enumerate(reply["output"]["message"]["content"]):
        if "toolUse" in block:
            tool = block["toolUse"]
            start = {"toolUse": {"toolUseId": tool["toolUseId"], "name": tool["name"]}}
            events.append(_event("contentBlockStart", {"start": start, "contentBlockIndex": index}))
            arguments = json.dumps(tool["input"])
            deltas = [{"toolUse": {"input": arguments[n : n + 10]}} for n in range(0, len(arguments), 10)]
        else:
            words = block["text"].split(" ")
            deltas = [{"text": w + (" " if n < len(words) - 1 else "")} for n, w in enumerate(words)]
        for delta in deltas:
            if script.fail_after is not None and pieces == script.fail_after:
                headers = {
                    ":exception-type": "throttlingException",
                    ":content-type": "application/json",
                    ":message-type": "exception",
                }
                events.append(frame(headers, json.dumps({"message": "Too many requests"}).encode()))
                return events
            events.append(_event("contentBlockDelta", {"delta": delta, "contentBlockIndex": index}))
            pieces += 1
        events.append(_event("contentBlockStop", {"contentBlockIndex": index}))
    events.append(_event("messageStop", {"stopReason": reply["stopReason"]}))
    metadata = {"usage": reply["usage"], "metrics": reply["metrics"]}
    if "trace" in reply:
        metadata["trace"] = reply["trace"]
    events.append(_event("metadata", metadata))
    return events


def titan_embedding(body: dict[str, Any]) -> dict[str, Any]:
    """Titan Text Embeddings V2's answer: a vector of `dimensions` (256, 512 or 1024), unit
    length when `normalize`; deterministic per word, so texts sharing words are close."""
    dimension = int(body.get("dimensions", 1024))
    vector = [0.0] * dimension
    for word in re.findall(r"\w+", str(body["inputText"]).lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vector[int.from_bytes(digest[:4], "big") % dimension] += 1.0
    if body.get("normalize", True):
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        vector = [x / norm for x in vector]
    return {"embedding": vector, "inputTextTokenCount": len(str(body["inputText"]).split())}
