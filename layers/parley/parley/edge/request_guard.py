"""Checks every request passes before any route runs (and before an idempotency record is
written), so a hostile request is a 400 that names the problem and writes nothing. Its code is
`request_too_complex`, of its own: the published JSON Schemas say nothing of these limits (no
schema keyword bounds nesting, integer digits or surrogates), so a request may match its schema
and still be refused here, and the code tells a client (and the fuzzer) that this is why:

- the body, when there is one, is JSON nested at most `MAX_DEPTH` levels (DynamoDB's own limit
  for nested documents is 32), with no integer literal over `MAX_INTEGER_DIGITS` digits (DynamoDB
  numbers keep 38), no NaN or Infinity (not JSON), and text that is valid Unicode: a lone surrogate
  (`"\\ud800"`) cannot be stored as UTF-8, in a key or in a value;
- every path parameter is at most `MAX_PATH_PARAMETER_LENGTH` characters and every query
  parameter at most `MAX_QUERY_PARAMETER_LENGTH`, in valid Unicode.
Sizes of particular fields are the routes' own business (a message's content, metadata).
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32
MAX_INTEGER_DIGITS = 38
MAX_PATH_PARAMETER_LENGTH = 256
MAX_QUERY_PARAMETER_LENGTH = 2048
# The `error` of every refusal below: documented on every operation's 400.
REFUSAL_CODE = "request_too_complex"


class HostileInput(ValueError):
    """What is wrong with the request, in a sentence for the client."""


def check_request(event: dict[str, Any]) -> None:
    """Raise HostileInput when the request breaks one of the limits above."""
    for name, value in (event.get("pathParameters") or {}).items():
        _check_parameter("path parameter", name, value, MAX_PATH_PARAMETER_LENGTH)
    # Every value of a repeated parameter; queryStringParameters holds only the last of each.
    multi = event.get("multiValueQueryStringParameters") or {
        name: [value] for name, value in (event.get("queryStringParameters") or {}).items()
    }
    for name, values in multi.items():
        for value in values or []:
            _check_parameter("query parameter", name, value, MAX_QUERY_PARAMETER_LENGTH)
    body = event.get("body")
    if body and not event.get("isBase64Encoded"):
        check_json_text(body)


def check_json_text(text: str) -> None:
    """Parse `text` as the routes will, refusing what they could not safely handle. Text that is
    not JSON at all is left to the route's validation, which says so."""
    try:
        parsed = json.loads(text, parse_int=_integer, parse_constant=_constant)
    except RecursionError:
        raise HostileInput(f"The request body is nested deeper than {MAX_DEPTH} levels.") from None
    except HostileInput:
        raise
    except ValueError:
        return  # not JSON: the route answers 400 "not valid JSON"
    _check_value(parsed)


def _integer(literal: str) -> int:
    digits = len(literal.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise HostileInput(
            f"The request body holds an integer of {digits} digits; the limit is {MAX_INTEGER_DIGITS}."
        )
    return int(literal)


def _constant(literal: str) -> Any:
    raise HostileInput(f"The request body holds {literal}, which is not a JSON number.")


def _check_value(root: Any) -> None:
    """Depth and text of a parsed body, walked without recursion."""
    pending: list[tuple[Any, int]] = [(root, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            raise HostileInput(f"The request body is nested deeper than {MAX_DEPTH} levels.")
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, "a key")
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_text(value, "a value")
        elif isinstance(value, float) and not math.isfinite(value):
            raise HostileInput("The request body holds a number too large to represent.")


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise HostileInput(
            f"The request body holds a lone UTF-16 surrogate in {where}; text must be valid Unicode."
        ) from None


def _check_parameter(kind: str, name: str, value: Any, limit: int) -> None:
    text = str(value)
    if len(text) > limit:
        raise HostileInput(f"The {kind} '{name}' is {len(text)} characters long; the limit is {limit}.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise HostileInput(f"The {kind} '{name}' is not valid Unicode.") from None
