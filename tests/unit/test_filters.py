"""Metadata filters: what is refused and how it is named, typed comparison, pinning and narrowing,
and that the published JSON Schema accepts exactly what Parley accepts."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from parley.errors import Forbidden, InvalidRequest
from parley.models.api.filters import FILTERS_SCHEMA
from parley.models.filters import MAX_IN_VALUES, MAX_KEYS, narrowed, parse_filters

# The generated cases are the same whatever else the run has imported (see tests/conftest.py).
pytestmark = pytest.mark.usefixtures("no_literals_from_loaded_modules")


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ([1], "filters must be an object"),
        ({"k": {"in": 3}}, "filters.k.in must be a non-empty list"),
        ({"k": {"in": []}}, "filters.k.in must be a non-empty list"),
        ({"k": {"in": [{"a": 1}]}}, "filters.k.in must hold strings, numbers or booleans"),
        ({"k": {"near": 1}}, "filters.k: unknown operator 'near'"),
        ({"k": {"gte": [1]}}, "filters.k.gte must be a number or an ISO 8601 date"),
        ({"k": {"gte": "soon"}}, "filters.k.gte: 'soon' is neither a number nor an ISO 8601 date"),
        ({"k": {"gte": 1, "gt": 0}}, "filters.k: give at most one lower bound"),
        ({"k": {"gte": 1, "lt": "2024-01-01"}}, "filters.k: the bounds must all be numbers or all be dates"),
        ({"k": {"in": [1], "gte": 0}}, "filters.k: 'in' cannot be combined"),
        ({"k": [1, 2]}, "filters.k must be a string, number or boolean, or an object of operators"),
        ({"k": {}}, "filters.k must be a string, number or boolean, or an object of operators"),
        ({"a b": 1}, "filters.a b: a metadata key is 1 to 64"),
        ({"lang\n": "en"}, "a metadata key is 1 to 64"),
        ({"big": 2**63}, "filters.big: an integer is between -2^63 and 2^63-1"),
        ({"big": {"in": [1, -(2**63) - 1]}}, "filters.big.in: an integer is between"),
        ({"big": {"gte": 2**64}}, "filters.big.gte: an integer is between"),
        ({f"k{n}": n for n in range(MAX_KEYS + 1)}, f"the limit is {MAX_KEYS}"),
        ({"k": {"in": list(range(MAX_IN_VALUES + 1))}}, f"the limit is {MAX_IN_VALUES}"),
        ({"k": "x" * 257}, "a string value is at most 256 characters"),
    ],
)
def test_a_malformed_filter_is_a_400_that_names_its_key(filters: Any, named: str) -> None:
    with pytest.raises(InvalidRequest) as refusal:
        parse_filters(filters)

    assert refusal.value.code == "invalid_filters"
    assert named in refusal.value.message


@pytest.mark.parametrize(
    ("filters", "stored", "admits"),
    [
        ({"year": 2020}, 2020, True),
        ({"year": 2020}, 2020.0, True),
        ({"year": 2020}, "2020", False),
        ({"public": True}, True, True),
        ({"public": True}, 1, False),
        ({"public": 1}, True, False),
        ({"year": {"gte": 2020, "lt": 2021}}, 2020.5, True),
        ({"year": {"gte": 2020, "lt": 2021}}, 2021, False),
        ({"year": {"gte": 2020}}, "2021", False),
        ({"on": {"gte": "2024-01-01"}}, "2024-01-01T00:00:00Z", True),
        ({"on": {"gt": "2024-01-01"}}, "2024-01-01", False),
        ({"on": {"lt": "2024-01-01T12:00:00+02:00"}}, "2024-01-01T10:30:00Z", False),
        ({"on": {"lt": "2024-01-01T12:00:00+02:00"}}, "2024-01-01T09:30:00Z", True),
        ({"on": {"gte": "2024-01-01"}}, 20240101, False),
        # Whole milliseconds: finer digits are dropped on both sides, in every store alike.
        ({"on": {"gte": "2024-01-01T00:00:00.0005Z"}}, "2024-01-01T00:00:00.0001Z", True),
        ({"on": {"gt": "2024-01-01T00:00:00.0005Z"}}, "2024-01-01T00:00:00.0009Z", False),
        ({"on": {"gt": "2024-01-01T00:00:00.0005Z"}}, "2024-01-01T00:00:00.001Z", True),
        ({"on": {"lt": "1969-12-31T23:59:59.9995Z"}}, "1969-12-31T23:59:59.998999Z", True),
        ({"tag": {"in": ["a", 2, False]}}, 2, True),
        ({"tag": {"in": ["a", 2, False]}}, False, True),
        ({"tag": {"in": ["a", 2, False]}}, 0, False),
    ],
)
def test_values_compare_as_they_are_stored(filters: dict[str, Any], stored: Any, admits: bool) -> None:
    [condition] = parse_filters(filters)

    assert condition.admits(stored) is admits


PINNED = parse_filters({"lang": {"in": ["en", "fr"]}, "year": {"gte": 2020, "lt": 2025}})


@pytest.mark.parametrize(
    "request_filters",
    [
        {"lang": "en"},
        {"lang": {"in": ["fr"]}},
        {"year": {"gte": 2021, "lte": 2024}},
        {"year": 2022},
        {"year": {"gt": 2020, "lt": 2025}},
        {"topic": "travel"},
    ],
)
def test_a_request_may_narrow_what_an_assistant_pins(request_filters: dict[str, Any]) -> None:
    effective = {c.key: c for c in narrowed(PINNED, parse_filters(request_filters))}

    assert set(effective) == {"lang", "year", *request_filters}
    for key in request_filters:
        assert effective[key] == parse_filters({key: request_filters[key]})[0]


@pytest.mark.parametrize(
    ("request_filters", "key"),
    [
        ({"lang": "de"}, "lang"),
        ({"lang": {"in": ["en", "de"]}}, "lang"),
        ({"lang": {"gte": 1}}, "lang"),
        ({"year": {"gte": 2019}}, "year"),
        ({"year": {"gte": 2020, "lte": 2025}}, "year"),  # 2025 itself is outside `lt 2025`
        ({"year": {"gte": 2021}}, "year"),  # no upper bound: wider than the pin's
        ({"year": 2030}, "year"),
        ({"year": {"gte": "2021-01-01"}}, "year"),
    ],
)
def test_a_request_never_widens_a_pin(request_filters: dict[str, Any], key: str) -> None:
    with pytest.raises(Forbidden) as refusal:
        narrowed(PINNED, parse_filters(request_filters))

    assert refusal.value.code == "filter_outside_pin"
    assert f"filters.{key}" in refusal.value.message


SCHEMA = Draft202012Validator(FILTERS_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
KEYS = st.sampled_from(["lang", "year", "a.b", "x:y", "_k", "bad key", ".dot", "k" * 65, ""])
BOUNDS = st.one_of(
    st.integers(-10_000, 10_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        ["2024-01-01", "2024-01-01T10:00:00Z", "2024-13-01", "2024-02-30", "soon", "2024-01-01T25:00:00Z"]
    ),
    st.booleans(),
    st.none(),
)
SCALARS = st.one_of(st.text(max_size=4), st.integers(-5, 5), st.booleans(), st.just("x" * 257), st.none())
CONDITIONS = st.one_of(
    SCALARS,
    st.dictionaries(st.sampled_from(["gte", "gt", "lte", "lt", "near"]), BOUNDS, max_size=3),
    st.fixed_dictionaries({"in": st.one_of(st.lists(SCALARS, max_size=3), SCALARS)}),
    st.lists(SCALARS, max_size=2),
)


@settings(max_examples=400, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, CONDITIONS, max_size=3))
def test_the_published_schema_accepts_exactly_what_parley_accepts(filters: dict[str, Any]) -> None:
    try:
        parse_filters(filters)
        accepted = True
    except InvalidRequest:
        accepted = False

    assert SCHEMA.is_valid(filters) is accepted, (filters, [e.message for e in SCHEMA.iter_errors(filters)])
