"""Metadata filters: which of a brand's chunks a search may return, by their documents' `metadata`.

A request (or an assistant) sends `{key: condition}`, every condition ANDed:
- a scalar (string, number, boolean): the key holds exactly that value, of that type;
- `{"in": [scalars]}`: the key holds one of them;
- `{"gte"|"gt"|"lte"|"lt": bound}` (one or more of them): the key holds a number within the
  bounds when the bounds are numbers, or a date (ISO 8601) within them when they are dates.
  Dates compare in whole milliseconds since the epoch (finer digits are dropped, in the bounds
  and in the stored values alike), so every store draws the same edge.

Values are typed as stored: the number 2020 is not the string "2020", a boolean is not a number.
The stores apply the filters themselves, inside every search (SQL in the local store, filter
clauses inside each OpenSearch sub-query), so `top_k` still means k matches.

An assistant's filters are pinned: a request may narrow them (a condition on a pinned key within
the pinned one), never widen them (`narrowed`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from parley.errors import Forbidden, InvalidRequest

MAX_KEYS = 10
MAX_IN_VALUES = 50
MAX_STRING = 256
# Matched with fullmatch: `$` alone would let a trailing newline through.
KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$")
# Integers a store holds exactly (SQLite's and OpenSearch's 64-bit longs).
INTEGER_RANGE = (-(2**63), 2**63 - 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
RANGE_OPERATORS = ("gte", "gt", "lte", "lt")
OPERATORS = ("in", *RANGE_OPERATORS)

Scalar = str | int | float | bool
RangeKind = Literal["number", "date"]


@dataclass(frozen=True)
class Condition:
    """One key's condition: `values` (a scalar is a one-value `in`), or bounds of one kind."""

    key: str
    values: tuple[Scalar, ...] = ()
    kind: RangeKind | None = None  # set for a range
    bounds: tuple[tuple[str, float], ...] = ()  # (operator, number or epoch milliseconds)

    @property
    def is_range(self) -> bool:
        return self.kind is not None

    def bound_values(self) -> dict[str, Any]:
        """The bounds as sent: numbers as numbers, dates as ISO 8601 (UTC) strings."""
        return {op: _iso(value) if self.kind == "date" else value for op, value in self.bounds}

    def admits(self, value: Scalar) -> bool:
        """Whether a stored value meets the condition (the stores do this themselves; this is
        the reference they are tested against, and what checks a narrowing)."""
        if not self.is_range:
            return any(_same(value, wanted) for wanted in self.values)
        measured = _measure(value, self.kind)
        return measured is not None and all(_within(measured, op, bound) for op, bound in self.bounds)


Filters = tuple[Condition, ...]


def parse_filters(raw: Any, field: str = "filters") -> Filters:
    """The conditions of a `filters` object; a 400 naming the key for anything malformed."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _invalid(f"{field} must be an object of metadata keys to conditions.")
    if len(raw) > MAX_KEYS:
        raise _invalid(f"{field} has {len(raw)} keys; the limit is {MAX_KEYS}.")
    return tuple(_condition(key, value, field) for key, value in raw.items())


def narrowed(pinned: Filters, requested: Filters) -> Filters:
    """The filters a request searches with under an assistant's pinned ones: every pinned
    condition, each replaced by the request's on the same key when that is within it; the
    request's conditions on other keys are added. A request condition outside a pinned one is a
    403 that names the key."""
    by_key = {condition.key: condition for condition in pinned}
    for condition in requested:
        pin = by_key.get(condition.key)
        if pin is not None and not _within_pin(condition, pin):
            raise Forbidden(
                f"filters.{condition.key} is outside what the assistant pins "
                f"({_describe(pin)}); a request may only narrow it.",
                code="filter_outside_pin",
            )
        by_key[condition.key] = condition
    return tuple(by_key.values())


def _condition(key: Any, value: Any, field: str) -> Condition:
    where = f"{field}.{key}"
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise _invalid(
            f"{where}: a metadata key is 1 to 64 letters, digits or _ . : - (not starting with . : -)."
        )
    if _is_scalar(value):
        return Condition(key, (_checked_scalar(value, where),))
    if not isinstance(value, dict) or not value:
        raise _invalid(
            f"{where} must be a string, number or boolean, or an object of operators "
            f"({', '.join(OPERATORS)})."
        )
    unknown = [op for op in value if op not in OPERATORS]
    if unknown:
        raise _invalid(f"{where}: unknown operator '{unknown[0]}'; use one of {', '.join(OPERATORS)}.")
    if "in" in value:
        if len(value) > 1:
            raise _invalid(f"{where}: 'in' cannot be combined with other operators.")
        listed = value["in"]
        if not isinstance(listed, list) or not listed:
            raise _invalid(f"{where}.in must be a non-empty list of strings, numbers or booleans.")
        if len(listed) > MAX_IN_VALUES:
            raise _invalid(f"{where}.in has {len(listed)} values; the limit is {MAX_IN_VALUES}.")
        if not all(_is_scalar(item) for item in listed):
            raise _invalid(f"{where}.in must hold strings, numbers or booleans only.")
        return Condition(key, tuple(_checked_scalar(item, f"{where}.in") for item in listed))
    return _range(key, value, where)


def _range(key: str, value: dict[str, Any], where: str) -> Condition:
    kinds: set[RangeKind] = set()
    bounds: list[tuple[str, float]] = []
    for op, bound in value.items():
        if isinstance(bound, bool) or not isinstance(bound, int | float | str):
            raise _invalid(f"{where}.{op} must be a number or an ISO 8601 date.")
        if isinstance(bound, str):
            moment = date_millis(bound)
            if moment is None:
                raise _invalid(f"{where}.{op}: '{bound[:64]}' is neither a number nor an ISO 8601 date.")
            kinds.add("date")
            bounds.append((op, moment))
        else:
            if not math.isfinite(bound):
                raise _invalid(f"{where}.{op} must be a finite number.")
            _check_integer(bound, f"{where}.{op}")
            kinds.add("number")
            bounds.append((op, float(bound)))
    if len(kinds) > 1:
        raise _invalid(f"{where}: the bounds must all be numbers or all be dates.")
    if len({op.rstrip("e") for op, _ in bounds}) < len(bounds):  # gt with gte, lt with lte
        raise _invalid(f"{where}: give at most one lower bound (gt, gte) and one upper bound (lt, lte).")
    return Condition(key, kind=kinds.pop(), bounds=tuple(bounds))


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _checked_scalar(value: Scalar, where: str) -> Scalar:
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise _invalid(f"{where}: a string value is at most {MAX_STRING} characters.")
    if isinstance(value, float) and not math.isfinite(value):
        raise _invalid(f"{where} must be a finite number.")
    _check_integer(value, where)
    return value


def _check_integer(value: Scalar, where: str) -> None:
    low, high = INTEGER_RANGE
    if isinstance(value, int) and not isinstance(value, bool) and not low <= value <= high:
        raise _invalid(f"{where}: an integer is between -2^63 and 2^63-1.")


def _same(stored: Scalar, wanted: Scalar) -> bool:
    """Equal and of the same type: booleans are not numbers, numbers are not strings."""
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored == wanted
    if isinstance(stored, str) or isinstance(wanted, str):
        return isinstance(stored, str) and isinstance(wanted, str) and stored == wanted
    return float(stored) == float(wanted)


def _measure(value: Scalar, kind: RangeKind | None) -> float | None:
    if kind == "number":
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    return date_millis(value) if isinstance(value, str) else None


def _within(measured: float, op: str, bound: float) -> bool:
    return {
        "gte": measured >= bound,
        "gt": measured > bound,
        "lte": measured <= bound,
        "lt": measured < bound,
    }[op]


def date_millis(text: str) -> int | None:
    """Whole milliseconds since the epoch of an ISO 8601 date or date-time (UTC unless it says
    otherwise), finer digits dropped: exact integer arithmetic, the same in every store."""
    if not re.match(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return (moment - _EPOCH) // _MILLISECOND
    except OverflowError:
        return None


def date_fields(metadata: dict[str, Any]) -> dict[str, int]:
    """The metadata's date values in epoch milliseconds, by key: what a date range compares."""
    return {
        key: moment
        for key, value in metadata.items()
        if isinstance(value, str) and (moment := date_millis(value)) is not None
    }


def _iso(epoch_ms: float) -> str:
    return (_EPOCH + int(epoch_ms) * _MILLISECOND).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _within_pin(condition: Condition, pin: Condition) -> bool:
    if not condition.is_range:
        return all(pin.admits(value) for value in condition.values)
    if not pin.is_range or pin.kind != condition.kind:
        return False
    return _lower(condition) >= _lower(pin) and _upper(condition) <= _upper(pin)


def _lower(condition: Condition) -> tuple[float, int]:
    """The lower bound as (value, 1 if exclusive): a larger tuple is a narrower bound."""
    for op, bound in condition.bounds:
        if op in ("gte", "gt"):
            return (bound, 1 if op == "gt" else 0)
    return (-math.inf, 0)


def _upper(condition: Condition) -> tuple[float, int]:
    for op, bound in condition.bounds:
        if op in ("lte", "lt"):
            return (bound, -1 if op == "lt" else 0)
    return (math.inf, 0)


def _describe(condition: Condition) -> str:
    if condition.is_range:
        return ", ".join(f"{op} {value}" for op, value in condition.bound_values().items())
    if len(condition.values) == 1:
        return repr(condition.values[0])
    return "one of " + ", ".join(repr(value) for value in condition.values)


def _invalid(message: str) -> InvalidRequest:
    return InvalidRequest(message, code="invalid_filters")
