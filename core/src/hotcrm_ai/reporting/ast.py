"""The structured query every translator produces: a small AST, never SQL text.

It is plain data (frozen attrs, JSON via the shared converter) so an LLM can answer in it through
structured outputs (``query_json_schema``), and so the validator (``compile.validate``) sees exactly
what will run. Dates are ISO strings (``YYYY-MM-DD``), ranges inclusive of both ends.
"""

from __future__ import annotations

from typing import Any

import attrs

OPERATORS: tuple[str, ...] = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "is_null", "not_null")
AGG_FUNCS: tuple[str, ...] = ("count", "sum", "avg", "min", "max", "metric")
BUCKETS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
COMPARISONS: tuple[str, ...] = ("previous_period", "year_over_year", "custom")

Scalar = str | int | float | bool | None


@attrs.frozen
class Filter:
    """``field`` (``name``, ``join.name`` or a catalogue alias) ``op`` ``value`` (always a bound parameter)."""

    field: str
    op: str = "eq"
    value: Scalar | list[Scalar] = None


@attrs.frozen
class GroupBy:
    """A dimension: a field, or a date field cut into ``bucket`` (day/week/month/quarter/year)."""

    field: str
    bucket: str | None = None


@attrs.frozen
class Aggregate:
    """``func`` over ``field``, or ``func="metric"`` with a catalogue ``metric`` name; ``alias`` names the column."""

    func: str
    field: str | None = None
    metric: str | None = None
    alias: str | None = None


@attrs.frozen
class OrderBy:
    """``field`` is an output column name (alias or dimension) or an object field."""

    field: str
    direction: str = "desc"


@attrs.frozen
class TimeRange:
    """Inclusive date range applied to ``field`` (default: the first metric's date field, else the object's)."""

    start: str
    end: str
    field: str | None = None
    label: str = ""


@attrs.frozen
class Comparison:
    type: str
    start: str
    end: str
    label: str = ""


@attrs.frozen
class Query:
    object: str
    fields: list[str] = attrs.field(factory=list)
    filters: list[Filter] = attrs.field(factory=list)
    group_by: list[GroupBy] = attrs.field(factory=list)
    aggregates: list[Aggregate] = attrs.field(factory=list)
    order_by: list[OrderBy] = attrs.field(factory=list)
    limit: int | None = None
    time_range: TimeRange | None = None
    comparison: Comparison | None = None


@attrs.frozen
class NotUnderstood:
    """What a translator returns instead of guessing: what it could not map, and what can be asked."""

    reason: str
    unknown: list[str] = attrs.field(factory=list)
    suggestions: list[str] = attrs.field(factory=list)


@attrs.frozen
class Translated:
    """A Query plus what the translator matched and what it left unused (feeds confidence and notes)."""

    query: Query
    matched: list[str] = attrs.field(factory=list)
    unknown: list[str] = attrs.field(factory=list)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_SCALAR = {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]}


def query_json_schema() -> dict[str, Any]:
    """JSON Schema (strict-mode compatible: every property required, no extra keys) of ``Query``."""

    def obj(props: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}

    date = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Query",
        **obj(
            {
                "object": {"type": "string"},
                "fields": {"type": "array", "items": {"type": "string"}},
                "filters": {
                    "type": "array",
                    "items": obj(
                        {
                            "field": {"type": "string"},
                            "op": {"type": "string", "enum": list(OPERATORS)},
                            "value": {"anyOf": [*_SCALAR["anyOf"], {"type": "array", "items": _SCALAR}]},
                        }
                    ),
                },
                "group_by": {
                    "type": "array",
                    "items": obj({"field": {"type": "string"}, "bucket": _nullable({"type": "string", "enum": list(BUCKETS)})}),
                },
                "aggregates": {
                    "type": "array",
                    "items": obj(
                        {
                            "func": {"type": "string", "enum": list(AGG_FUNCS)},
                            "field": _nullable({"type": "string"}),
                            "metric": _nullable({"type": "string"}),
                            "alias": _nullable({"type": "string"}),
                        }
                    ),
                },
                "order_by": {
                    "type": "array",
                    "items": obj({"field": {"type": "string"}, "direction": {"type": "string", "enum": ["asc", "desc"]}}),
                },
                "limit": _nullable({"type": "integer", "minimum": 1}),
                "time_range": _nullable(
                    obj({"start": date, "end": date, "field": _nullable({"type": "string"}), "label": {"type": "string"}})
                ),
                "comparison": _nullable(
                    obj({"type": {"type": "string", "enum": list(COMPARISONS)}, "start": date, "end": date, "label": {"type": "string"}})
                ),
            }
        ),
    }
