"""Field types that accept exactly what JSON Schema accepts: an integer may be written 5 or 5.0,
a number may be an integer, but neither may be a string ("5") or a boolean."""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator


def _json_number(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON number")
    return value


# Put it after a field's bounds, `Annotated[int, Field(gt=0), JSON_NUMBER]`, so the bounds still
# reach the JSON schema (a validator wrapped around them would hide them).
JSON_NUMBER = BeforeValidator(_json_number)
