"""A chat completion streamed exactly as OpenAI streams it: `data: {chat.completion.chunk}` lines
(the role first, then content and tool-call argument fragments as the model writes them, then
the chunk with `finish_reason`, then the usage chunk when `stream_options.include_usage` asks),
and `data: [DONE]`. As for Parley's own events, nothing is sent before the first piece of the
answer, so an error found before it is the ordinary JSON response with its status; an error
after it is a `data: {"error": ...}` line, as OpenAI sends one."""

from __future__ import annotations

import json
from typing import Any

from parley.edge.openai_errors import in_openai_shape
from parley.edge.request import RequestView
from parley.edge.sse import ResponseWriter, write_whole
from parley.edge.streaming import StreamWriter
from parley.ids import new_identity
from parley.providers.base import Delta


class ChunkStream(StreamWriter):
    @staticmethod
    def shape(result: dict[str, Any]) -> dict[str, Any]:
        return in_openai_shape(result)

    def __init__(self, event: dict[str, Any], writer: ResponseWriter, cors: dict[str, str]) -> None:
        super().__init__(event, writer, cors)
        self.identity = new_identity()  # the use case gives the whole completion the same id
        body = RequestView(event).json_object
        options = body.get("stream_options")
        self.include_usage = isinstance(options, dict) and options.get("include_usage") is True
        self.requested_model = str(body.get("model") or "")
        self.model = ""

    def context(self, chunks: list[Any]) -> None:
        """Retrieved sources are not part of OpenAI's stream; the citations come in the last chunk."""

    def delta(self, delta: Delta) -> None:
        piece: dict[str, Any] = {}
        if delta.content:
            piece["content"] = delta.content
        if delta.tool_calls:
            piece["tool_calls"] = delta.tool_calls
        if piece:
            self._send(self._chunk(piece))

    def finish(self, result: dict[str, Any]) -> None:
        status = int(result["statusCode"])
        if not self.claimed or (status >= 300 and not self.started):
            write_whole(self.writer, result)
            return
        body = json.loads(result.get("body") or "null")
        if status >= 300:
            self._send(f"data: {json.dumps({'error': body.get('error')})}\n\n".encode())
        else:
            choice = body["choices"][0]
            last: dict[str, Any] = {}
            for extension in ("citations", "tool_runs"):  # Parley's extensions, whole, at the end
                if choice["message"].get(extension):
                    last[extension] = choice["message"][extension]
            self._send(self._chunk(last, finish_reason=choice["finish_reason"]))
            if self.include_usage:
                self._send(self._line({**self._frame(), "choices": [], "usage": body["usage"]}))
        self._send(b"data: [DONE]\n\n")

    def _frame(self) -> dict[str, Any]:
        identifier, created = self.identity
        return {"id": identifier, "object": "chat.completion.chunk", "created": created, "model": self.model}

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        frame = {**self._frame(), "choices": [choice]}
        if self.include_usage:
            frame["usage"] = None  # as OpenAI: null on every chunk but the last
        return self._line(frame)

    @staticmethod
    def _line(frame: dict[str, Any]) -> bytes:
        return f"data: {json.dumps(frame, separators=(',', ':'))}\n\n".encode()

    def opening(self) -> bytes:
        """OpenAI's first chunk: the role."""
        self.model = self.model or self.requested_model
        return self._chunk({"role": "assistant", "content": ""})
