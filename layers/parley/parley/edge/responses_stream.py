"""A response streamed as OpenAI's Responses API streams it, in the order its SDKs require: each
event a `data:` line named by its `event:` and `type`, with a `sequence_number` that counts from 0.
`response.created` and `response.in_progress` first; for the answer's text, `output_item.added`
and `content_part.added` before its `output_text.delta`s, then `output_text.done`,
`content_part.done` and `output_item.done`; for a function call, `output_item.added`, its
`function_call_arguments.delta`s, `.done` and `output_item.done`; `response.completed` (with the
whole response) last. As on Parley's other streams nothing is sent before the first piece, so an
error found before it is the ordinary JSON response; after it, `response.failed`."""

from __future__ import annotations

import json
from typing import Any

from parley.edge.openai_errors import in_openai_shape
from parley.edge.sse import ResponseWriter, sse, write_whole
from parley.edge.streaming import StreamWriter
from parley.providers.base import Delta


class ResponseEventStream(StreamWriter):
    @staticmethod
    def shape(result: dict[str, Any]) -> dict[str, Any]:
        return in_openai_shape(result)

    def __init__(self, event: dict[str, Any], writer: ResponseWriter, cors: dict[str, str]) -> None:
        super().__init__(event, writer, cors)
        self.sequence = 0
        self.response: dict[str, Any] = {}
        self.items: list[dict[str, Any]] = []  # the output items opened, in order
        self.done: set[int] = set()  # their output indexes, once done
        self.text_index: int | None = None  # the open message item's output index
        self.calls: dict[int, int] = {}  # a tool call's index → its output index

    def announce(self, response: dict[str, Any]) -> None:
        """The response as it starts (`in_progress`): what `response.created` carries."""
        self.response = response

    def generation_hint(self) -> str | None:
        """The stream is the response's: `GET /v1/responses/{id}?stream=true` re-attaches to it,
        and an event's number is its `sequence_number`."""
        return str(self.response["id"]) if self.response.get("id") else None

    def context(self, chunks: list[Any]) -> None:
        """Retrieved sources are not part of the Responses stream."""

    def delta(self, delta: Delta) -> None:
        if delta.content:
            if self.text_index is None:
                self._open_message()
            index = self.text_index
            assert index is not None
            item = self.items[index]
            item["content"][0]["text"] += delta.content
            self._event(
                "response.output_text.delta",
                {
                    "item_id": item["id"],
                    "output_index": index,
                    "content_index": 0,
                    "delta": delta.content,
                    "logprobs": [],
                },
            )
        for fragment in delta.tool_calls or []:
            position = int(fragment.get("index", 0))
            function = fragment.get("function") or {}
            if position not in self.calls:
                self._close_message()
                item = {
                    "type": "function_call",
                    "id": f"fc_{self._suffix()}_{position}",
                    "call_id": str(fragment.get("id") or ""),
                    "name": str(function.get("name") or ""),
                    "arguments": "",
                    "status": "in_progress",
                }
                self.calls[position] = self._add(item)
            index = self.calls[position]
            if function.get("arguments"):
                self.items[index]["arguments"] += function["arguments"]
                self._event(
                    "response.function_call_arguments.delta",
                    {
                        "item_id": self.items[index]["id"],
                        "output_index": index,
                        "delta": function["arguments"],
                    },
                )

    def finish(self, result: dict[str, Any]) -> None:
        status = int(result["statusCode"])
        if not self.claimed or (status >= 300 and not self.started):
            write_whole(self.writer, result)
            return
        body = json.loads(result.get("body") or "null")
        if status >= 300:
            error = body.get("error") if isinstance(body, dict) else None
            failed = {
                **self.response,
                "status": "failed",
                "error": error or {"code": "server_error", "message": ""},
            }
            self._event("response.failed", {"response": failed})
            return
        final = {item["id"]: item for item in body["output"]}
        for item in body["output"]:  # what was not streamed piece by piece (a call handed over whole)
            if item["id"] not in {opened["id"] for opened in self.items}:
                empty: dict[str, Any] = (
                    {"content": []}
                    if item["type"] == "message"
                    else {"arguments": ""}
                    if item["type"] == "function_call"
                    else {}  # an MCP call Parley made, an approval request: whole
                )
                self._add({**item, **empty, "status": "in_progress"})
        for index, item in enumerate(self.items):
            if index not in self.done:
                self._finish_item(index, final.get(item["id"], item))
        self._event("response.completed", {"response": body})

    def opening(self) -> bytes:
        started = b""
        for name in ("response.created", "response.in_progress"):
            started += sse(name, {"type": name, "sequence_number": self._next(), "response": self.response})
        return started

    def _suffix(self) -> str:
        return str(self.response.get("id", "resp_")).removeprefix("resp_")

    def _open_message(self) -> None:
        item: dict[str, Any] = {
            "type": "message",
            "id": f"msg_{self._suffix()}",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        self.text_index = self._add(item)
        part = {"type": "output_text", "text": "", "annotations": []}
        item["content"].append(dict(part))
        self._event(
            "response.content_part.added",
            {"item_id": item["id"], "output_index": self.text_index, "content_index": 0, "part": part},
        )

    def _close_message(self) -> None:
        if self.text_index is not None:
            item = self.items[self.text_index]
            self._finish_item(self.text_index, {**item, "status": "completed"})
            self.text_index = None

    def _add(self, item: dict[str, Any]) -> int:
        index = len(self.items)
        self.items.append(item)
        shown = (
            {**item, "content": []}
            if item["type"] == "message"
            else {**item, "arguments": ""}
            if item["type"] == "function_call"
            else item
        )
        self._event("response.output_item.added", {"output_index": index, "item": shown})
        return index

    def _finish_item(self, index: int, final: dict[str, Any]) -> None:
        item = self.items[index]
        if item["type"] not in ("message", "function_call"):
            self._event("response.output_item.done", {"output_index": index, "item": final})
            self.done.add(index)
            return
        if item["type"] == "message":
            text = "".join(part.get("text", "") for part in final.get("content", []))
            if not item["content"]:  # a message handed over whole: its one part, whole
                part = {"type": "output_text", "text": "", "annotations": []}
                item["content"].append(part)
                self._event(
                    "response.content_part.added",
                    {"item_id": item["id"], "output_index": index, "content_index": 0, "part": part},
                )
                self._event(
                    "response.output_text.delta",
                    {
                        "item_id": item["id"],
                        "output_index": index,
                        "content_index": 0,
                        "delta": text,
                        "logprobs": [],
                    },
                )
            ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
            self._event("response.output_text.done", {**ids, "text": text, "logprobs": []})
            self._event(
                "response.content_part.done",
                {**ids, "part": {"type": "output_text", "text": text, "annotations": []}},
            )
        else:
            if not item["arguments"] and final.get("arguments"):
                self._event(
                    "response.function_call_arguments.delta",
                    {"item_id": item["id"], "output_index": index, "delta": final["arguments"]},
                )
            self._event(
                "response.function_call_arguments.done",
                {
                    "item_id": item["id"],
                    "output_index": index,
                    "arguments": final.get("arguments", item["arguments"]),
                },
            )
        self._event(
            "response.output_item.done", {"output_index": index, "item": {**final, "status": "completed"}}
        )
        self.done.add(index)

    def _next(self) -> int:
        number, self.sequence = self.sequence, self.sequence + 1
        return number

    def _event(self, name: str, data: dict[str, Any]) -> None:
        if not self.started:
            self._send(b"")  # the opening events first, numbered before this one
        self._send(sse(name, {"type": name, "sequence_number": self._next(), **data}))
