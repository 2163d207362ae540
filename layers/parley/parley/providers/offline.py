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
        if last is not None and last.role == "user" and (made := _tool_call(request, last.content)):
            call, cut = made
            return self._completion(request, "", [call], finish="length" if cut else None)
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
        self,
        request: ChatRequest,
        content: str,
        tool_calls: list[dict[str, Any]] | None = None,
        finish: FinishReason | None = None,
    ) -> Completion:
        stopped = _before_stop(content, request.stop)
        content = stopped if stopped is not None else content
        finish = finish or ("tool_calls" if tool_calls and stopped is None else "stop")
        prompt_text = (request.system_prompt or "") + "".join(m.content for m in request.messages)
        prompt_tokens = estimate_tokens(prompt_text) + 4 * len(request.messages)
        written = "".join(c["function"]["name"] + c["function"]["arguments"] for c in tool_calls or [])
        completion_tokens = estimate_tokens(content + written)
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


def _tool_call(request: ChatRequest, question: str) -> tuple[dict[str, Any], bool] | None:
    """A call of the declared tool the question points at: the one tool_choice names, else the
    tool sharing the most words with the question (any tool, if the choice is "required"); and
    whether its arguments were cut at `max_tokens`, as a model's are (finish_reason `length`)."""
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
    budget = _Budget(request.max_tokens or DEFAULT_MAX_TOKENS)
    if properties or "$ref" not in parameters:
        arguments = {
            name: _argument(properties.get(name) or {}, question, parameters, budget) for name in wanted
        }
    else:  # the document is a reference (a recursive schema's root)
        arguments = _argument(parameters, question, parameters, budget)
    text = json.dumps(arguments)
    cut = budget.spent or estimate_tokens(text) > budget.tokens
    if cut:
        text = _within_tokens(text, budget.tokens)
    digest = hashlib.sha256(f"{question}\x00{function['name']}".encode()).hexdigest()[:24]
    call = {
        "id": f"call_{digest}",
        "type": "function",
        "function": {"name": function["name"], "arguments": text},
    }
    return call, cut


def _within_tokens(text: str, tokens: int) -> str:
    """The longest start of `text` that takes at most `tokens`."""
    low, high = 0, min(len(text), tokens * _CHARS_PER_TOKEN)
    while low < high:
        middle = (low + high + 1) // 2
        if estimate_tokens(text[:middle]) <= tokens:
            low = middle
        else:
            high = middle - 1
    return text[:low]


DEFAULT_MAX_TOKENS = 1_024  # the offline model's max_output_tokens
_CHARS_PER_TOKEN = 4


class _Budget:
    """The tokens a generated document may take: each value costs at least one; once they are
    spent, nothing more is generated (arrays and objects stay short) and the answer is cut."""

    def __init__(self, tokens: int) -> None:
        self.tokens = tokens
        self.left = tokens
        self.spent = False

    def take(self, tokens: int = 1) -> bool:
        if self.left <= 0:
            self.spent = True
            return False
        self.left -= tokens
        return True


def _argument(schema: Any, question: str, root: dict[str, Any], budget: _Budget, depth: int = 0) -> Any:
    """A value valid against `schema` (a `$ref` resolved in `root`'s `$defs`), drawn from the
    question where it can be: every property of an object (so `required` and strict schemas
    hold), one item of an array (or its `minItems`), the first option of an enum or anyOf;
    within `budget`, past which arrays and objects are left short."""
    if not isinstance(schema, dict) or not budget.take():
        return None
    if "$ref" in schema and depth < 16:
        reference = str(schema["$ref"])
        target = (
            root
            if reference == "#"
            else (root.get("$defs") or root.get("definitions") or {}).get(reference.rsplit("/", 1)[-1], {})
        )
        return _argument(target, question, root, budget, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combined in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(combined) or [] if o.get("type") != "null"]
        if options:
            return _argument(options[0], question, root, budget, depth + 1)
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
        return _array(schema, question, root, budget, depth)
    if kind == "object" or "properties" in schema:
        return _object(schema, question, root, budget, depth)
    text = " ".join(question.split())[:_PREVIEW_CHARS]
    budget.take(len(text) // _CHARS_PER_TOKEN)
    return text


def _array(
    schema: dict[str, Any], question: str, root: dict[str, Any], budget: _Budget, depth: int
) -> list[Any]:
    """One item (or `minItems` of them, at most `maxItems`), while the budget lasts."""
    count = max(1, int(schema.get("minItems", 1)))
    if "maxItems" in schema:
        count = min(count, int(schema["maxItems"]))
    items = schema.get("items") or {}
    made: list[Any] = []
    while depth < 16 and len(made) < count and budget.left > 0:
        made.append(_argument(items, question, root, budget, depth + 1))
    budget.spent = budget.spent or len(made) < count
    return made


def _object(
    schema: dict[str, Any], question: str, root: dict[str, Any], budget: _Budget, depth: int
) -> dict[str, Any]:
    """Every property, while the budget lasts."""
    made: dict[str, Any] = {}
    for name, spec in (schema.get("properties") or {}).items() if depth < 16 else ():
        if budget.left <= 0:
            budget.spent = True
            break
        made[name] = _argument(spec, question, root, budget, depth + 1)
    return made


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
