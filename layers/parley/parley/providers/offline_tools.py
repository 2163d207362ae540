"""The offline model's tool calls: the declared tool a question points at (the one tool_choice
names, else the one sharing the most content words with it) and arguments valid against its
schema, drawn from the question and generated within `max_tokens`, cut as a model's are."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from parley.providers.base import ChatRequest
from parley.tokens import estimate_tokens

_PREVIEW_CHARS = 200
_WORD = re.compile(r"\w{3,}")
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


def content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOPWORDS


def tool_call(request: ChatRequest, question: str) -> tuple[dict[str, Any], bool] | None:
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
        asked = content_words(question)

        def overlap(f: dict[str, Any]) -> int:
            words = content_words(
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
