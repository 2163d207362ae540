"""A Messages answer streamed as Anthropic streams it: named events, `message_start` first, then
each content block (`content_block_start`, its `text_delta`s or `input_json_delta`s,
`content_block_stop`), then `message_delta` with the stop reason and usage, then `message_stop`.
As on Parley's other streams nothing is sent before the first piece of the answer, so an error
found before it is the ordinary JSON response with its status; an error after it is an `error`
event, as Anthropic sends one."""

from __future__ import annotations

import json
from typing import Any

from parley.edge.anthropic_errors import in_anthropic_shape
from parley.edge.request import RequestView
from parley.edge.sse import ResponseWriter, sse, write_whole
from parley.edge.streaming import StreamWriter
from parley.ids import new_identity
from parley.models.api.anthropic import message_id
from parley.providers.base import Delta


class MessageStream(StreamWriter):
    @staticmethod
    def shape(result: dict[str, Any]) -> dict[str, Any]:
        return in_anthropic_shape(result)

    def __init__(self, event: dict[str, Any], writer: ResponseWriter, cors: dict[str, str]) -> None:
        super().__init__(event, writer, cors)
        self.identity = new_identity()  # the use case gives the answer the same id
        self.requested_model = str(RequestView(event).json_object.get("model") or "")
        self.blocks = 0  # content blocks started
        self.closed = 0  # content blocks stopped
        self.open: str | None = None  # the kind of the block open now: "text" or "tool_use"
        self.calls: dict[int, int] = {}  # a tool call's index in the answer → its block's index
        self.sent_text = False
        self.sent_calls: set[str] = set()  # ids of the tool calls streamed

    def context(self, chunks: list[Any]) -> None:
        """Retrieved sources are not part of Anthropic's stream."""

    def delta(self, delta: Delta) -> None:
        if delta.content:
            if self.open != "text":
                self._start({"type": "text", "text": ""})
                self.open = "text"
            self.sent_text = True
            self._event(
                "content_block_delta",
                {"index": self.blocks - 1, "delta": {"type": "text_delta", "text": delta.content}},
            )
        for fragment in delta.tool_calls or []:
            position = int(fragment.get("index", 0))
            function = fragment.get("function") or {}
            if position not in self.calls:
                call_id = str(fragment.get("id") or "")
                name = str(function.get("name") or "")
                self._start({"type": "tool_use", "id": call_id, "name": name, "input": {}})
                self.open = "tool_use"
                self.calls[position] = self.blocks - 1
                self.sent_calls.add(call_id)
            if function.get("arguments"):
                self._event(
                    "content_block_delta",
                    {
                        "index": self.calls[position],
                        "delta": {"type": "input_json_delta", "partial_json": function["arguments"]},
                    },
                )

    def finish(self, result: dict[str, Any]) -> None:
        status = int(result["statusCode"])
        if not self.claimed or (status >= 300 and not self.started):
            write_whole(self.writer, result)
            return
        body = json.loads(result.get("body") or "null")
        if status >= 300:
            failed = {"type": "api_error", "message": "The answer failed; it was not stored."}
            self._event("error", {"error": body.get("error", failed) if isinstance(body, dict) else failed})
            return
        for block in body["content"]:  # what was not streamed piece by piece, whole
            if block["type"] == "text" and not self.sent_text:
                self._start({"type": "text", "text": ""})
                self.open = "text"
                self._event(
                    "content_block_delta",
                    {"index": self.blocks - 1, "delta": {"type": "text_delta", "text": block["text"]}},
                )
            elif block["type"] == "tool_use" and block["id"] not in self.sent_calls:
                self._start({**block, "input": {}})
                self.open = "tool_use"
                partial = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
                self._event("content_block_delta", {"index": self.blocks - 1, "delta": partial})
        self._close()
        usage = body["usage"]
        self._event(
            "message_delta",
            {
                "delta": {"stop_reason": body["stop_reason"], "stop_sequence": body.get("stop_sequence")},
                "usage": {"input_tokens": usage["input_tokens"], "output_tokens": usage["output_tokens"]},
            },
        )
        self._event("message_stop", {})

    def opening(self) -> bytes:
        """Anthropic's first event: the message, empty."""
        message: dict[str, Any] = {
            "id": message_id(self.identity[0]),
            "type": "message",
            "role": "assistant",
            "model": self.requested_model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return sse("message_start", {"type": "message_start", "message": message})

    def _start(self, block: dict[str, Any]) -> None:
        self._close()
        self._event("content_block_start", {"index": self.blocks, "content_block": block})
        self.blocks += 1

    def _close(self) -> None:
        for index in range(self.closed, self.blocks):
            self._event("content_block_stop", {"index": index})
        self.closed = self.blocks
        self.open = None

    def _event(self, name: str, data: dict[str, Any]) -> None:
        self._send(sse(name, {"type": name, **data}))
