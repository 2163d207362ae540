"""The edge checks every request passes: depth, text encoding, number literals, parameter sizes."""

from __future__ import annotations

import json

import pytest

from parley.edge.request_guard import MAX_DEPTH, HostileInput, check_json_text, check_request


def event(
    body: str | None = None, path: dict[str, str] | None = None, query: dict[str, str] | None = None
) -> dict:
    return {"body": body, "pathParameters": path, "queryStringParameters": query}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, None),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nested deeper than 32"),
        ('{"a":' * 300 + "1" + "}" * 300, "nested deeper than 32"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 32"),
        ('{"metadata": {"k": "\\ud800"}}', "lone UTF-16 surrogate in a value"),
        ('{"metadata": {"\\udfff": 1}}', "lone UTF-16 surrogate in a key"),
        ('{"emoji": "\\ud83d\\ude00"}', None),  # a surrogate pair is one valid character
        ('{"limit": ' + "9" * 38 + "}", None),
        ('{"limit": ' + "9" * 39 + "}", "integer of 39 digits"),
        ('{"limit": -' + "1" * 5000 + "}", "integer of 5000 digits"),
        ('{"t": NaN}', "NaN"),
        ('{"t": -Infinity}', "-Infinity"),
        ('{"t": 1e999}', "too large"),
        ("not json at all", None),  # left to the route, which says it is not JSON
    ],
)
def test_bodies_are_refused_exactly_past_each_limit(body: str, words: str | None) -> None:
    if words is None:
        check_json_text(body)
        return
    with pytest.raises(HostileInput, match=words):
        check_json_text(body)


def test_parameters_are_bounded_and_valid_unicode() -> None:
    check_request(event(path={"id": "a" * 256}, query={"q": "b" * 2048}))

    with pytest.raises(HostileInput, match="path parameter 'id' is 257 characters"):
        check_request(event(path={"id": "a" * 257}))
    with pytest.raises(HostileInput, match="query parameter 'q'"):
        check_request(event(query={"q": "b" * 2049}))
    with pytest.raises(HostileInput, match="not valid Unicode"):
        check_request(event(path={"id": "\ud800"}))


def test_a_valid_body_passes_unchanged() -> None:
    body = json.dumps({"role": "user", "content": "héllo 🌍", "metadata": {"n": [1, 2.5, None, True]}})

    check_request(event(body=body))
