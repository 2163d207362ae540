"""A provider that answers without a network: deterministic, for local development and tests.
It names itself in `model` and in the reply's metadata, so its answers are never mistaken for a
real model's. Given numbered sources in its system prompt (`[1] ...`), it answers from the ones
that share the most words with the question and cites them, as a RAG model would."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from typing import Any

from parley.models.domain import TokenUsage
from parley.providers.base import ChatRequest, Completion, Delta, FinishReason
from parley.providers.registry import OFFLINE_MODEL
from parley.tokens import estimate_tokens

_PREVIEW_CHARS = 200
_SOURCE = re.compile(r"^\[(\d+)\] (.+?)(?=^\[\d+\] |\Z)", re.MULTILINE | re.DOTALL)
_WORD = re.compile(r"\w{3,}")
_TITLE = re.compile(r"^\([^)]*\)\s*")
_STOPWORDS = frozenset(
    [
        "the",
        "and",
        "are",
        "for",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "how",
        "does",
        "did",
        "has",
        "have",
        "had",
        "not",
        "but",
        "with",
        "from",
        "this",
        "that",
        "these",
        "those",
        "you",
        "your",
        "our",
        "their",
        "its",
        "into",
        "about",
        "there",
        "than",
        "then",
        "them",
        "they",
        "can",
        "will",
        "would",
        "should",
    ]
)


class OfflineProvider:
    """`delay_seconds`: the pause before each streamed piece (OFFLINE_STREAM_DELAY_MS), so a
    stream can be watched growing."""

    name = "offline"

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds

    def stream(self, request: ChatRequest) -> Iterator[Delta | Completion]:
        completion = self.complete(request)
        for index, call in enumerate(completion.tool_calls or []):
            yield Delta(tool_calls=[{"index": index, **call}])
        for piece in re.findall(r"\S+\s*|\s+", completion.content):
            if self.delay_seconds:
                time.sleep(self.delay_seconds)
            yield Delta(content=piece)
        yield completion

    def complete(self, request: ChatRequest) -> Completion:
        if request.task == "title":  # the first words of the excerpt's first line ("user: ...")
            excerpt = next((m.content for m in request.messages if m.role == "user"), "")
            first = excerpt.split("\n", 1)[0].removeprefix("user: ")
            return self._completion(request, " ".join(first.split()[:6]).rstrip("?.!,;:") or "Conversation")
        if request.task == "summary":
            return self._completion(
                request, _summary(request.messages[-1].content if request.messages else "")
            )
        last = request.messages[-1] if request.messages else None
        if last is not None and last.role == "tool":
            results = [m.content for m in reversed(request.messages) if m.role == "tool"]
            return self._completion(
                request, "Offline answer from the tool result: " + " ".join(results[::-1])
            )
        if last is not None and last.role == "user" and (call := _tool_call(request, last.content)):
            return self._completion(request, "", [call])
        last_user = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        preview = " ".join(last_user.split())[:_PREVIEW_CHARS]
        digest = hashlib.sha256(last_user.encode()).hexdigest()[:8]
        sources = _SOURCE.findall(request.system_prompt or "")
        if sources:
            content = _cited_answer(last_user, sources)
        else:
            content = (
                f'Offline reply ({digest}): you said "{preview}". This conversation has '
                f"{len(request.messages)} message(s) in context. Configure an OpenAI or Anthropic "
                "key to talk to a real model."
            )
        return self._completion(request, content)

    def _completion(
        self, request: ChatRequest, content: str, tool_calls: list[dict[str, Any]] | None = None
    ) -> Completion:
        stopped = _before_stop(content, request.stop)
        content = stopped if stopped is not None else content
        finish: FinishReason = "tool_calls" if tool_calls and stopped is None else "stop"
        prompt_text = (request.system_prompt or "") + "".join(m.content for m in request.messages)
        prompt_tokens = estimate_tokens(prompt_text) + 4 * len(request.messages)
        completion_tokens = estimate_tokens(content + (json.dumps(tool_calls) if tool_calls else ""))
        return Completion(
            content=content,
            finish_reason=finish,
            tool_calls=tool_calls,
            usage=TokenUsage(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                total_tokens=prompt_tokens + completion_tokens,
            ),
            model=OFFLINE_MODEL,
            metadata={"provider": self.name},
        )


def _summary(prompt: str) -> str:
    """A running summary without a model: the summary so far, then the first words of each new
    message ("role: words…"), the newest 1,500 characters of that."""
    so_far, _, new = prompt.partition("\n\nNew messages:\n")
    so_far = so_far.removeprefix("Summary so far:\n")
    lines = [" ".join(line.split()[:10]) for line in new.splitlines() if line.strip()]
    kept = [] if so_far.startswith("(none yet") else [so_far]
    return " | ".join([*kept, *lines])[-1_500:]


def _tool_call(request: ChatRequest, question: str) -> dict[str, Any] | None:
    """A call of the declared tool the question points at: the one tool_choice names, else the
    tool sharing the most words with the question (any tool, if the choice is "required")."""
    choice = request.tool_choice
    if not request.tools or choice == "none":
        return None
    tools = {tool["function"]["name"]: tool["function"] for tool in request.tools}
    if isinstance(choice, dict):
        function = tools[choice["function"]["name"]]
    else:
        asked = _content_words(question)

        def overlap(f: dict[str, Any]) -> int:
            words = _content_words(
                f["name"].replace("_", " ").replace("-", " ") + " " + (f.get("description") or "")
            )
            return len(asked & words)

        function = max(tools.values(), key=overlap)
        if overlap(function) == 0 and choice != "required":
            return None
    parameters = function.get("parameters") or {}
    properties: dict[str, Any] = parameters.get("properties") or {}
    wanted = parameters.get("required") or list(properties)
    arguments = {name: _argument(properties.get(name) or {}, question, parameters) for name in wanted}
    digest = hashlib.sha256(f"{question}\x00{function['name']}".encode()).hexdigest()[:24]
    return {
        "id": f"call_{digest}",
        "type": "function",
        "function": {"name": function["name"], "arguments": json.dumps(arguments)},
    }


def _argument(schema: dict[str, Any], question: str, root: dict[str, Any], depth: int = 0) -> Any:
    """A value valid against `schema` (a `$ref` resolved in `root`'s `$defs`), drawn from the
    question where it can be: every property of an object (so `required` and strict schemas
    hold), one item of an array (or its `minItems`), the first option of an enum or anyOf."""
    if "$ref" in schema and depth < 16:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return _argument(
            (root.get("$defs") or root.get("definitions") or {}).get(name, {}), question, root, depth + 1
        )
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combined in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(combined) or [] if o.get("type") != "null"]
        if options:
            return _argument(options[0], question, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind in ("number", "integer"):
        number = re.search(r"-?\d+(?:\.\d+)?", question)
        value = float(number.group()) if number else 0
        value = max(value, schema.get("minimum", value))
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        items = schema.get("items") or {}
        return [_argument(items, question, root, depth + 1) for _ in range(count)] if depth < 16 else []
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        return (
            {name: _argument(spec, question, root, depth + 1) for name, spec in properties.items()}
            if depth < 16
            else {}
        )
    return " ".join(question.split())[:_PREVIEW_CHARS]


def _before_stop(content: str, stop: list[str] | None) -> str | None:
    """The content up to the first stop sequence in it, or None when none occurs."""
    ends = [content.index(sequence) for sequence in stop or [] if sequence and sequence in content]
    return content[: min(ends)] if ends else None


def _cited_answer(question: str, sources: list[tuple[str, str]]) -> str:
    """Source [1] (the best-ranked), and the next source sharing the most content words with the
    question, each quoted by its first sentence."""
    asked = _content_words(question)
    first, rest = sources[0], sources[1:]
    ranked = sorted(rest, key=lambda source: -len(asked & _content_words(source[1])))
    chosen = [first, *(ranked[:1] if ranked and asked & _content_words(ranked[0][1]) else [])]
    parts = [
        f"{_first_sentence(text)} [{n}]." for n, text in sorted(chosen, key=lambda source: int(source[0]))
    ]
    return "Offline answer from your documents: " + " ".join(parts)


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOPWORDS


def _first_sentence(source: str) -> str:
    """The first sentence of a source, without its `(title)` prefix and Markdown headings."""
    text = _TITLE.sub("", source, count=1)
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    body = " ".join(lines) or text
    return body.split(". ")[0].strip().rstrip(".")
