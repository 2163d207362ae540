"""Metadata filters as SQL over the local store's `chunks.metadata` (JSON)."""

from __future__ import annotations

from typing import Any

from parley.models.filters import Filters


def sql_filters(filters: Filters) -> tuple[str, list[Any]]:
    """A WHERE clause over `chunks.metadata` and `chunks.dates` (JSON) for the filters, typed as
    stored: SQLite's json_type tells a boolean from a number and a number from a string."""
    clauses: list[str] = []
    values: list[Any] = []
    for condition in filters:
        path = f'$."{condition.key}"'
        if condition.kind == "number":
            parts = ["json_type(metadata, ?) IN ('integer', 'real')"]
            values.append(path)
            for op, bound in condition.bounds:
                parts.append(f"json_extract(metadata, ?) {_SQL_OPERATORS[op]} ?")
                values += [path, bound]
            clauses.append("(" + " AND ".join(parts) + ")")
        elif condition.kind == "date":
            # `dates` holds each date value in epoch milliseconds (filters.date_fields).
            parts = ["json_type(metadata, ?) = 'text'", "json_type(dates, ?) = 'integer'"]
            values += [path, path]
            for op, bound in condition.bounds:
                parts.append(f"json_extract(dates, ?) {_SQL_OPERATORS[op]} ?")
                values += [path, int(bound)]
            clauses.append("(" + " AND ".join(parts) + ")")
        else:
            options = []
            for value in condition.values:
                if isinstance(value, bool):
                    options.append("json_type(metadata, ?) = ?")
                    values += [path, "true" if value else "false"]
                elif isinstance(value, str):
                    options.append("(json_type(metadata, ?) = 'text' AND json_extract(metadata, ?) = ?)")
                    values += [path, path, value]
                else:
                    options.append(
                        "(json_type(metadata, ?) IN ('integer', 'real') AND json_extract(metadata, ?) = ?)"
                    )
                    values += [path, path, value]
            clauses.append("(" + " OR ".join(options) + ")")
    return " AND ".join(clauses) or "1", values


_SQL_OPERATORS = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}
