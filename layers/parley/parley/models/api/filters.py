"""The `filters` field of the RAG chat, of assistants and of the OpenAI-compatible chat: its
published JSON Schema states every rule parley.models.filters checks, so a body the schema accepts
is one Parley accepts."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from parley.models.filters import KEY, MAX_IN_VALUES, MAX_KEYS, MAX_STRING, RANGE_OPERATORS

_STRING = {"type": "string", "maxLength": MAX_STRING}
_SCALAR = {"anyOf": [_STRING, {"type": "number"}, {"type": "boolean"}]}
_ONE_BOUND_EACH_WAY = {"not": {"anyOf": [{"required": ["gt", "gte"]}, {"required": ["lt", "lte"]}]}}


def _range(bound: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": dict.fromkeys(RANGE_OPERATORS, bound),
        "additionalProperties": False,
        "minProperties": 1,
        **_ONE_BOUND_EACH_WAY,
    }


FILTERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Only chunks whose document `metadata` meets every condition: a key's exact value "
        '(string, number or boolean, typed as stored), `{"in": [values]}`, or a range '
        '(`{"gte": 2020, "lt": 2024}`, or with ISO 8601 dates). '
        f"At most {MAX_KEYS} keys of 1 to 64 characters, {MAX_IN_VALUES} values per `in`, "
        f"{MAX_STRING} characters per string. Applied inside the search: `top_k` still counts "
        "matching chunks."
    ),
    "maxProperties": MAX_KEYS,
    "propertyNames": {"pattern": KEY.pattern},
    "additionalProperties": {
        "anyOf": [
            _STRING,
            {"type": "number"},
            {"type": "boolean"},
            {
                "type": "object",
                "properties": {
                    "in": {"type": "array", "items": _SCALAR, "minItems": 1, "maxItems": MAX_IN_VALUES}
                },
                "required": ["in"],
                "additionalProperties": False,
            },
            _range({"type": "number"}),
            _range(
                {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
            ),
        ]
    },
}

MetadataFilters = Annotated[dict[str, Any], WithJsonSchema(FILTERS_SCHEMA), Field(max_length=MAX_KEYS)]
