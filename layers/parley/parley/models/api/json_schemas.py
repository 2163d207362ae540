"""JSON Schemas a client sends (a tool's `parameters`, `response_format.json_schema.schema`):
checked for the shape of every keyword Parley or a provider reads, so a malformed one is a 400
that names where it is, never a failure later. Bounded too: a schema is a description, not data."""

from __future__ import annotations

from typing import Any

from parley.errors import InvalidRequest

MAX_SCHEMA_DEPTH = 32
MAX_SCHEMA_NODES = 2_000
TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SUBSCHEMAS = ("items", "additionalProperties", "not", "contains", "if", "then", "else")
_COUNTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def check_json_schema(schema: Any, where: str) -> None:
    """Raise a 400 `invalid_schema` naming the first malformed keyword under `where`."""
    root = schema
    pending: list[tuple[Any, str, int]] = [(schema, where, 1)]
    nodes = 0
    while pending:
        node, path, depth = pending.pop()
        nodes += 1
        if nodes > MAX_SCHEMA_NODES:
            raise _invalid(where, f"has more than {MAX_SCHEMA_NODES} subschemas")
        if depth > MAX_SCHEMA_DEPTH:
            raise _invalid(path, f"nests deeper than {MAX_SCHEMA_DEPTH} levels")
        if isinstance(node, bool):
            continue
        if not isinstance(node, dict):
            raise _invalid(path, "must be a JSON Schema (an object, or true or false)")
        _check_keywords(node, path, root)
        pending += [(child, where_child, depth + 1) for child, where_child in _subschemas(node, path)]


def _subschemas(node: dict[str, Any], path: str) -> list[tuple[Any, str]]:
    """The schemas inside `node`, each with where it is."""
    found = [(node[name], f"{path}.{name}") for name in _SUBSCHEMAS if name in node]
    for name in _SUBSCHEMA_LISTS:
        if name in node:
            options = node[name]
            if not isinstance(options, list) or not options:
                raise _invalid(f"{path}.{name}", "must be a non-empty list of schemas")
            found += [(option, f"{path}.{name}[{n}]") for n, option in enumerate(options)]
    for name in _SUBSCHEMA_MAPS:
        if name in node:
            members = node[name]
            if not isinstance(members, dict):
                raise _invalid(f"{path}.{name}", "must be an object of schemas")
            found += [(member, f"{path}.{name}.{key}") for key, member in members.items()]
    return found


def _check_keywords(node: dict[str, Any], path: str, root: Any) -> None:
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
    if not all(isinstance(k, str) and k in TYPES for k in kinds) or (isinstance(kind, list) and not kind):
        raise _invalid(f"{path}.type", f"must be one of {', '.join(sorted(TYPES))}, or a list of them")
    for name in _COUNTS:
        value = node.get(name)
        if name in node and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise _invalid(f"{path}.{name}", "must be a non-negative integer")
    for name in _BOUNDS:
        value = node.get(name)
        if name in node and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _invalid(f"{path}.{name}", "must be a number")
    required = node.get("required")
    if "required" in node and (
        not isinstance(required, list) or not all(isinstance(r, str) for r in required)
    ):
        raise _invalid(f"{path}.required", "must be a list of property names")
    if "enum" in node and (not isinstance(node["enum"], list) or not node["enum"]):
        raise _invalid(f"{path}.enum", "must be a non-empty list")
    if "$ref" in node:
        _check_reference(node["$ref"], f"{path}.$ref", root)


def _check_reference(reference: Any, path: str, root: Any) -> None:
    """A `$ref` must point into the schema's own `$defs` (or `definitions`), or be `#` itself."""
    if reference == "#":
        return
    if not isinstance(reference, str) or not reference.startswith(("#/$defs/", "#/definitions/")):
        raise _invalid(path, "must be '#' or point into the schema's own $defs ('#/$defs/<name>')")
    section, _, name = reference.removeprefix("#/").partition("/")
    if not isinstance(root, dict) or name not in (root.get(section) or {}):
        raise _invalid(path, f"points at '{reference}', which the schema does not define")


def _invalid(path: str, problem: str) -> InvalidRequest:
    return InvalidRequest(f"{path} {problem}.", code="invalid_schema", param=path)
