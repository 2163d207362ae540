"""A local HTTP server that speaks OpenAI Chat Completions (`POST /v1/chat/completions`) and
Anthropic Messages (`POST /v1/messages`), shaped like the providers' documented examples, whole or
streamed as server-sent events (`stream: true`: OpenAI's `chat.completion.chunk`s ending in
`[DONE]`, with a usage chunk when `stream_options.include_usage`; Anthropic's `message_start` …
`message_stop`). The real SDKs talk to it through `base_url`. Tests script replies, faults and
the pace of a stream, and read what was sent."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OPENAI_KEY = "sk-test-openai-0123456789"
ANTHROPIC_KEY = "sk-ant-test-0123456789"
OPENAI_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"
ANTHROPIC_PATH = "/v1/messages"


@dataclass
class Scripted:
    """One scripted answer: a status and body (None: a normal reply), headers, a delay."""

    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reply: dict[str, Any] = field(default_factory=dict)  # overrides merged into a normal reply
    raw: bytes | None = None  # sent as the body instead of JSON (a proxy's HTML page, say)
    # Streamed replies: the last piece of text waits for this event (a slow model, held by the
    # test), and `fail_after` pieces the stream ends with the provider's error event instead.
    hold: threading.Event | None = None
    fail_after: int | None = None
    # Streamed replies cut short in transit: after `cut_after` events the stream ends, cleanly
    # (the chunked body closes, no terminal event) or, with `reset`, by a TCP reset.
    cut_after: int | None = None
    reset: bool = False


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class ProviderServer:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._scripts: dict[str, deque[Scripted]] = {
            OPENAI_PATH: deque(),
            ANTHROPIC_PATH: deque(),
            EMBEDDINGS_PATH: deque(),
        }
        self._lock = threading.Lock()
        # Prefixes Anthropic has cached (hashes of the request up to a cache_control breakpoint).
        self.anthropic_cache: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # one response is two writes: no delayed-ACK stall

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, headers, payload = server.answer(self.path, dict(self.headers.items()), body)
                if isinstance(payload, Streamed):
                    self._stream(payload)
                    return
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    for name, value in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def _stream(self, streamed: Streamed) -> None:
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for number, event in enumerate(streamed.events):
                        if number == streamed.hold_before and streamed.hold is not None:
                            streamed.hold.wait(timeout=30)
                        if number == streamed.cut_after and streamed.reset:
                            self.connection.setsockopt(
                                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                            )
                            os.close(self.connection.detach())  # with linger 0: an RST, not a FIN
                            return
                        if number == streamed.cut_after:
                            break
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, name="provider-server", daemon=True).start()

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def script(self, path: str, *answers: Scripted) -> None:
        with self._lock:
            self._scripts[path].extend(answers)

    def reset(self) -> None:
        with self._lock:
            self.anthropic_cache.clear()
            self.received.clear()
            for queue in self._scripts.values():
                queue.clear()

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(
        self, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            self.received.append(Received(path, headers, body))
            queue = self._scripts.get(path)
            scripted = queue.popleft() if queue else Scripted()
        if path not in self._scripts:
            return 404, {}, {"error": {"message": f"no route {path}", "type": "not_found"}}
        lowered = {k.lower(): v for k, v in headers.items()}
        if path in (OPENAI_PATH, EMBEDDINGS_PATH) and lowered.get("authorization") != f"Bearer {OPENAI_KEY}":
            return (
                401,
                {},
                openai_error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
            )
        anthropic_key = lowered.get("x-api-key") or lowered.get("authorization", "").removeprefix("Bearer ")
        if path == ANTHROPIC_PATH and (anthropic_key != ANTHROPIC_KEY or "anthropic-version" not in lowered):
            return 401, {}, anthropic_error("authentication_error", "invalid x-api-key")
        if scripted.delay:
            time.sleep(scripted.delay)
        if scripted.raw is not None:
            return scripted.status, scripted.headers, scripted.raw
        if scripted.body is not None or scripted.status != 200:
            return scripted.status, scripted.headers, scripted.body or {}
        if path == EMBEDDINGS_PATH:
            return 200, scripted.headers, embeddings_reply(body)
        if "stream_options" in body and body.get("stream") is not True:
            message = "The 'stream_options' parameter is only allowed when 'stream' is enabled."
            return 400, {}, openai_error(message, "invalid_request_error")
        refusal = openai_refusal(body) if path == OPENAI_PATH else anthropic_refusal(body)
        if refusal is not None:
            return 400, {}, refusal
        if path == OPENAI_PATH:
            reply = openai_reply(body)
        else:
            with self._lock:
                reply = anthropic_reply(body, self.anthropic_cache)
        reply = {**reply, **scripted.reply}
        if body.get("stream") is True:
            stream = openai_stream if path == OPENAI_PATH else anthropic_stream
            streamed = stream(reply, body, scripted)
            streamed.cut_after, streamed.reset = scripted.cut_after, scripted.reset
            return 200, {}, streamed
        return 200, scripted.headers, reply


@dataclass
class Streamed:
    """A streamed reply: its events, and the one that waits for `hold`."""

    events: list[bytes]
    hold: threading.Event | None
    hold_before: int
    cut_after: int | None = None
    reset: bool = False


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [word + (" " if n < len(words) - 1 else "") for n, word in enumerate(words)]


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


def openai_stream(reply: dict[str, Any], request: dict[str, Any], scripted: Scripted) -> Streamed:
    """The reply as OpenAI streams it: a role chunk, a chunk per piece, a finish chunk, the usage
    chunk (only with `stream_options.include_usage`), then `[DONE]`. A failure is an `error`
    object in a data line, as OpenAI sends one mid-stream."""
    message = reply["choices"][0]["message"]
    base = {k: reply[k] for k in ("id", "created", "model", "system_fingerprint")} | {
        "object": "chat.completion.chunk"
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _sse({**base, "choices": [choice], "usage": None})

    pieces = _pieces(message.get("content") or "")
    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    for number, piece in enumerate(pieces):
        if scripted.fail_after is not None and number == scripted.fail_after:
            events.append(
                _sse(openai_error("The server had an error while processing your request.", "server_error"))
            )
            return Streamed(events, scripted.hold, len(events))
        events.append(chunk({"content": piece}))
    for index, call in enumerate(message.get("tool_calls") or []):
        events.append(chunk({"tool_calls": [{"index": index, **call}]}))
    events.append(chunk({}, reply["choices"][0]["finish_reason"]))
    if (request.get("stream_options") or {}).get("include_usage"):
        events.append(_sse({**base, "choices": [], "usage": reply["usage"]}))
    events.append(_sse("[DONE]"))
    return Streamed(events, scripted.hold, max(1, 1 + len(pieces) - 1))


def anthropic_stream(reply: dict[str, Any], request: dict[str, Any], scripted: Scripted) -> Streamed:
    """The reply as Anthropic streams it: message_start (input tokens), each content block (text
    deltas, or a tool_use whose input arrives as input_json_delta pieces), message_delta (stop
    reason, output tokens), message_stop. A failure is an `error` event."""
    usage = reply["usage"]
    start = {**reply, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    events = [
        _sse({"type": "message_start", "message": start}, "message_start"),
        _sse({"type": "ping"}, "ping"),
    ]
    hold_before, pieces_sent = 0, 0
    for index, block in enumerate(reply["content"]):
        if block["type"] == "text":
            opening: dict[str, Any] = {"type": "text", "text": ""}
            pieces = [("text_delta", "text", piece) for piece in _pieces(block["text"])]
        else:
            opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            arguments = json.dumps(block["input"])
            pieces = [
                ("input_json_delta", "partial_json", arguments[n : n + 8])
                for n in range(0, len(arguments), 8)
            ]
        events.append(
            _sse(
                {"type": "content_block_start", "index": index, "content_block": opening},
                "content_block_start",
            )
        )
        for kind, field_name, piece in pieces:
            if scripted.fail_after is not None and pieces_sent == scripted.fail_after:
                events.append(_sse(anthropic_error("overloaded_error", "Overloaded"), "error"))
                return Streamed(events, scripted.hold, len(events))
            hold_before = len(events)
            events.append(
                _sse(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": kind, field_name: piece},
                    },
                    "content_block_delta",
                )
            )
            pieces_sent += 1
        events.append(_sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
    events += [
        _sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": reply["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
            "message_delta",
        ),
        _sse({"type": "message_stop"}, "message_stop"),
    ]
    return Streamed(events, scripted.hold, hold_before)


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return " ".join(b.get("text", "") for b in content if b.get("type") == "text")
    return ""


REASONING_MODELS = ("gpt-5", "o1", "o3", "o4")


def openai_refusal(request: dict[str, Any]) -> dict[str, Any] | None:
    """What OpenAI refuses with a 400: a `tool` message that answers no call of the assistant
    message before it, `temperature` for a reasoning model, tool_choice without tools."""
    issued: set[str] = set()
    for message in request.get("messages") or []:
        if message["role"] == "assistant":
            issued = {call["id"] for call in message.get("tool_calls") or []}
        elif message["role"] == "tool":
            if message.get("tool_call_id") not in issued:
                return openai_error(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                    "message with 'tool_calls'.",
                    "invalid_request_error",
                )
        else:
            issued = set()
    if "temperature" in request and str(request["model"]).startswith(REASONING_MODELS):
        return openai_error(
            "Unsupported parameter: 'temperature' is not supported with this model.", "invalid_request_error"
        )
    if "tool_choice" in request and not request.get("tools"):
        return openai_error(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            "invalid_request_error",
        )
    return None


def anthropic_refusal(request: dict[str, Any]) -> dict[str, Any] | None:
    """What Anthropic refuses with a 400: no messages, a first turn not the user's, two turns of one
    role in a row, a tool_result answering no tool_use of the assistant turn just before."""
    messages = request.get("messages") or []
    if not messages:
        return anthropic_error("invalid_request_error", "messages: at least one message is required")
    if messages[0]["role"] != "user":
        return anthropic_error("invalid_request_error", 'messages: first message must use the "user" role')
    previous: dict[str, Any] | None = None
    for message in messages:
        if previous is not None and previous["role"] == message["role"]:
            return anthropic_error(
                "invalid_request_error", "messages: roles must alternate between user and assistant"
            )
        blocks = message["content"] if isinstance(message["content"], list) else []
        offered = {
            b["id"]
            for b in (previous or {}).get("content") or []
            if isinstance(b, dict) and b.get("type") == "tool_use"
        }
        for block in blocks:
            if block.get("type") == "tool_result" and block.get("tool_use_id") not in offered:
                return anthropic_error(
                    "invalid_request_error",
                    "messages: unexpected `tool_use_id` found in `tool_result` blocks: each "
                    "`tool_result` block must have a corresponding `tool_use` block in the previous message.",
                )
        previous = message
    return None


def _requested_tool(tools: list[dict[str, Any]], choice: Any) -> str | None:
    """The name of the tool a scripted model calls: the chosen one, else the first (never with
    choice none)."""
    if not tools or choice in ("none", {"type": "none"}):
        return None
    if isinstance(choice, dict) and choice.get("type") in ("function", "tool"):
        return str(choice.get("name") or choice["function"]["name"])
    return str(tools[0].get("name") or tools[0]["function"]["name"])


def _last_is_tool_result(messages: list[dict[str, Any]]) -> str | None:
    """The text of the tool results the last message carries (OpenAI `tool` messages, or
    Anthropic `tool_result` blocks), if it carries any."""
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        results: list[str] = []
        for message in reversed(messages):
            if message.get("role") != "tool":
                break
            results.insert(0, str(message.get("content")))
        return " | ".join(results)
    content = last.get("content")
    blocks: list[Any] = content if isinstance(content, list) else []
    found = [str(b.get("content")) for b in blocks if b.get("type") == "tool_result"]
    return " | ".join(found) if found else None


def openai_reply(request: dict[str, Any]) -> dict[str, Any]:
    text = f"Echo: {_last_user_text(request['messages'])}"
    if (results := _last_is_tool_result(request["messages"])) is not None:
        text = f"Echo: tool said {results}"
    tool = (
        None
        if results is not None
        else _requested_tool(request.get("tools") or [], request.get("tool_choice"))
    )
    prompt = sum(len(str(m.get("content") or "").split()) + 4 for m in request["messages"])
    completion = len(text.split())
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": f"{request['model']}-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None if tool else text,
                    "refusal": None,
                    "annotations": [],
                }
                | (
                    {
                        "tool_calls": [
                            {
                                "id": "call_" + hashlib.sha256(text.encode()).hexdigest()[:24],
                                "type": "function",
                                "function": {"name": tool, "arguments": json.dumps({"query": text})},
                            }
                        ]
                    }
                    if tool
                    else {}
                ),
                "logprobs": None,
                "finish_reason": "tool_calls" if tool else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fc9f1d7035",
    }


CACHE_MIN_TOKENS = 1024  # Anthropic caches a prefix of at least this many tokens (Sonnet, Opus)


def _cache_usage(request: dict[str, Any], cache: set[str]) -> tuple[int, int, int] | None:
    """(input, cache read, cache write) tokens as Anthropic counts a request with cache_control
    breakpoints (about 4 characters a token): the longest prefix cached before is read, the
    rest up to the last breakpoint written; None when no breakpoint prefix is long enough."""
    system = request.get("system")
    parts: list[Any] = [
        *(system if isinstance(system, list) else [system] if system else []),
        *(request.get("tools") or []),
    ]
    for message in request["messages"]:
        content = message["content"]
        parts += [{"role": message["role"], **b} for b in content] if isinstance(content, list) else [message]
    sizes = [
        math.ceil(
            len(
                json.dumps({k: v for k, v in p.items() if k != "cache_control"} if isinstance(p, dict) else p)
            )
            / 4
        )
        for p in parts
    ]
    breakpoints = [n for n, p in enumerate(parts) if isinstance(p, dict) and "cache_control" in p]
    if not breakpoints or sum(sizes[: breakpoints[-1] + 1]) < CACHE_MIN_TOKENS:
        return None

    def key(end: int) -> str:
        return hashlib.sha256(
            json.dumps(
                [
                    {k: v for k, v in p.items() if k != "cache_control"} if isinstance(p, dict) else p
                    for p in parts[: end + 1]
                ]
            ).encode()
        ).hexdigest()

    # A hit may end at any block boundary up to 20 blocks before a breakpoint (Anthropic docs,
    # "Prompt caching": the system checks earlier block boundaries for a cached prefix).
    boundaries = {n for b in breakpoints for n in range(max(0, b - 20), b + 1)}
    read = max((sum(sizes[: n + 1]) for n in boundaries if key(n) in cache), default=0)
    written = sum(sizes[: breakpoints[-1] + 1]) - read
    cache.update(key(b) for b in breakpoints if sum(sizes[: b + 1]) >= CACHE_MIN_TOKENS)
    return sum(sizes) - read - written, read, written


def anthropic_reply(request: dict[str, Any], cache: set[str] | None = None) -> dict[str, Any]:
    text = f"Echo: {_last_user_text(request['messages'])}"
    if (results := _last_is_tool_result(request["messages"])) is not None:
        text = f"Echo: tool said {results}"
    tool = (
        None
        if results is not None
        else _requested_tool(request.get("tools") or [], request.get("tool_choice"))
    )
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    if tool:
        content = [
            {"type": "text", "text": "Let me look that up."},
            {
                "type": "tool_use",
                "id": "toolu_" + hashlib.sha256(text.encode()).hexdigest()[:24],
                "name": tool,
                "input": {"query": text},
            },
        ]
    return {
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
        "type": "message",
        "role": "assistant",
        "model": request["model"],
        "content": content,
        "stop_reason": "tool_use" if tool else "end_turn",
        "stop_sequence": None,
        "usage": _anthropic_usage(request, cache, len(text.split())),
    }


def _anthropic_usage(request: dict[str, Any], cache: set[str] | None, output: int) -> dict[str, int]:
    counted = _cache_usage(request, cache) if cache is not None else None
    fresh, read, written = counted or (25, 0, 0)
    return {
        "input_tokens": fresh,
        "output_tokens": output,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
    }


def embeddings_reply(request: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's embeddings response: one vector per input, deterministic, deliberately not unit length."""
    inputs = request["input"] if isinstance(request["input"], list) else [request["input"]]
    dimension = 1536 if request["model"] == "text-embedding-3-small" else 3072
    vectors = [
        [float((len(text) + i + k) % 7 + 1) for k in range(dimension)] for i, text in enumerate(inputs)
    ]
    # The SDK asks for base64 (little-endian float32) unless told otherwise, and decodes it.
    as_base64 = request.get("encoding_format") == "base64"
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode() if as_base64 else v,
        }
        for i, v in enumerate(vectors)
    ]
    tokens = sum(len(str(text).split()) for text in inputs)
    return {
        "object": "list",
        "data": data,
        "model": request["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def openai_error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def anthropic_error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}
