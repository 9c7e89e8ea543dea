"""The structured query every translator produces: a small AST, never SQL text.

It is plain data (frozen attrs, JSON via the shared converter) so an LLM can answer in it through
structured outputs (``query_json_schema``), and so the validator (``compile.validate``) sees exactly
what will run. Dates are ISO strings (``YYYY-MM-DD``), ranges inclusive of both ends.
"""

from __future__ import annotations

from typing import Any, NoReturn

import attrs

OPERATORS: tuple[str, ...] = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "is_null", "not_null")
AGG_FUNCS: tuple[str, ...] = ("count", "sum", "avg", "min", "max", "metric", "share")
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
    """``func`` over ``field``, or ``func="metric"`` with a catalogue ``metric`` name; ``alias`` names the column.

    ``func="share"`` is the fraction (0..1) of a sum/count ``metric``, of ``sum(field)``, or of the
    record count when both are null, that comes from the rows matching ``where`` (the segment):
    "share of revenue from EMEA", "percentage of cases that are critical"."""

    func: str
    field: str | None = None
    metric: str | None = None
    alias: str | None = None
    where: list[Filter] = attrs.field(factory=list)


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
    corrections: dict[str, str] = attrs.field(factory=dict)  # misspelt word -> the vocabulary word read instead


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_SCALAR = {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]}


def query_json_schema() -> dict[str, Any]:
    """JSON Schema (strict-mode compatible: every property required, no extra keys) of ``Query``."""

    def obj(props: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}

    date = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    filter_item = obj(
        {
            "field": {"type": "string"},
            "op": {"type": "string", "enum": list(OPERATORS)},
            "value": {"anyOf": [*_SCALAR["anyOf"], {"type": "array", "items": _SCALAR}]},
        }
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Query",
        **obj(
            {
                "object": {"type": "string"},
                "fields": {"type": "array", "items": {"type": "string"}},
                "filters": {"type": "array", "items": filter_item},
                "group_by": {
                    "type": "array",
                    "items": obj(
                        {"field": {"type": "string"}, "bucket": _nullable({"type": "string", "enum": list(BUCKETS)})}
                    ),
                },
                "aggregates": {
                    "type": "array",
                    "items": obj(
                        {
                            "func": {"type": "string", "enum": list(AGG_FUNCS)},
                            "field": _nullable({"type": "string"}),
                            "metric": _nullable({"type": "string"}),
                            "alias": _nullable({"type": "string"}),
                            "where": {"type": "array", "items": filter_item},
                        }
                    ),
                },
                "order_by": {
                    "type": "array",
                    "items": obj(
                        {"field": {"type": "string"}, "direction": {"type": "string", "enum": ["asc", "desc"]}}
                    ),
                },
                "limit": _nullable({"type": "integer", "minimum": 1}),
                "time_range": _nullable(
                    obj(
                        {
                            "start": date,
                            "end": date,
                            "field": _nullable({"type": "string"}),
                            "label": {"type": "string"},
                        }
                    )
                ),
                "comparison": _nullable(
                    obj(
                        {
                            "type": {"type": "string", "enum": list(COMPARISONS)},
                            "start": date,
                            "end": date,
                            "label": {"type": "string"},
                        }
                    )
                ),
            }
        ),
    }


def _fail(path: str, expected: str, got: Any) -> NoReturn:
    from hotcrm_ai.errors import FieldError, ValidationError

    raise ValidationError([FieldError(path, expected, repr(got)[:80])], subject="query")


def _obj(data: Any, path: str, keys: dict[str, bool]) -> dict[str, Any]:
    """Check a JSON object: a dict, no unknown keys, required keys present (``keys``: name -> required)."""
    if not isinstance(data, dict):
        _fail(path or "$", "an object", data)
    extra = set(data) - set(keys)
    if extra:
        _fail(
            f"{path}.{sorted(extra)[0]}" if path else sorted(extra)[0],
            f"one of the keys {', '.join(keys)}",
            "an unknown key",
        )
    for k, req in keys.items():
        if req and k not in data:
            _fail(f"{path}.{k}" if path else k, "a value (required)", "nothing")
    return data


def _str(v: Any, path: str) -> str:
    if not isinstance(v, str) or len(v) > 200:
        _fail(path, "a string (at most 200 characters)", v)
    return v


def _opt_str(v: Any, path: str) -> str | None:
    """``_str`` that also accepts null (a separate function so the non-null one is typed ``str``)."""
    if v is None:
        return None
    if not isinstance(v, str) or len(v) > 200:
        _fail(path, "a string (at most 200 characters) or null", v)
    return v


def _scalar(v: Any, path: str) -> Scalar:
    if v is None or isinstance(v, (str, bool, int, float)):
        if isinstance(v, float) and v != v:
            _fail(path, "a finite number", v)
        return v
    _fail(path, "a string, number, boolean or null", v)


def _list(v: Any, path: str) -> list[Any]:
    if not isinstance(v, list) or len(v) > 50:
        _fail(path, "a list of at most 50 items", v)
    return v


def _filters(data: Any, path: str) -> list[Filter]:
    out = []
    for i, f in enumerate(_list(data, path)):
        f = _obj(f, f"{path}[{i}]", {"field": True, "op": False, "value": False})
        value = f.get("value")
        value = (
            [_scalar(x, f"{path}[{i}].value[{j}]") for j, x in enumerate(_list(value, f"{path}[{i}].value"))]
            if isinstance(value, list)
            else _scalar(value, f"{path}[{i}].value")
        )
        out.append(Filter(_str(f["field"], f"{path}[{i}].field"), _str(f.get("op", "eq"), f"{path}[{i}].op"), value))
    return out


def parse_query(data: Any) -> Query:
    """A Query from JSON data (e.g. a model's answer), strictly: unknown keys or wrong types are a
    ValidationError naming the path. Names are checked against the catalogue later, by the compiler."""
    d = _obj(
        data,
        "",
        {
            k: k == "object"
            for k in (
                "object",
                "fields",
                "filters",
                "group_by",
                "aggregates",
                "order_by",
                "limit",
                "time_range",
                "comparison",
            )
        },
    )
    filters = _filters(d.get("filters", []), "filters")
    groups = [
        GroupBy(_str(g["field"], f"group_by[{i}].field"), _opt_str(g.get("bucket"), f"group_by[{i}].bucket"))
        for i, g in enumerate(
            _obj(x, f"group_by[{i}]", {"field": True, "bucket": False})
            for i, x in enumerate(_list(d.get("group_by", []), "group_by"))
        )
    ]
    aggs = [
        Aggregate(
            _str(a["func"], f"aggregates[{i}].func"),
            _opt_str(a.get("field"), f"aggregates[{i}].field"),
            _opt_str(a.get("metric"), f"aggregates[{i}].metric"),
            _opt_str(a.get("alias"), f"aggregates[{i}].alias"),
            _filters(a.get("where", []), f"aggregates[{i}].where"),
        )
        for i, a in enumerate(
            _obj(x, f"aggregates[{i}]", {"func": True, "field": False, "metric": False, "alias": False, "where": False})
            for i, x in enumerate(_list(d.get("aggregates", []), "aggregates"))
        )
    ]
    order = [
        OrderBy(_str(o["field"], f"order_by[{i}].field"), _str(o.get("direction", "desc"), f"order_by[{i}].direction"))
        for i, o in enumerate(
            _obj(x, f"order_by[{i}]", {"field": True, "direction": False})
            for i, x in enumerate(_list(d.get("order_by", []), "order_by"))
        )
    ]
    fields = [_str(x, f"fields[{i}]") for i, x in enumerate(_list(d.get("fields", []), "fields"))]
    limit = d.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        _fail("limit", "a positive integer or null", limit)
    tr = d.get("time_range")
    time_range = None
    if tr is not None:
        tr = _obj(tr, "time_range", {"start": True, "end": True, "field": False, "label": False})
        time_range = TimeRange(
            _str(tr["start"], "time_range.start"),
            _str(tr["end"], "time_range.end"),
            _opt_str(tr.get("field"), "time_range.field"),
            _str(tr.get("label", ""), "time_range.label") or "",
        )
    cmp_ = d.get("comparison")
    comparison = None
    if cmp_ is not None:
        cmp_ = _obj(cmp_, "comparison", {"type": True, "start": True, "end": True, "label": False})
        comparison = Comparison(
            _str(cmp_["type"], "comparison.type"),
            _str(cmp_["start"], "comparison.start"),
            _str(cmp_["end"], "comparison.end"),
            _str(cmp_.get("label", ""), "comparison.label") or "",
        )
    return Query(
        object=_str(d["object"], "object"),
        fields=fields,
        filters=filters,
        group_by=groups,
        aggregates=aggs,
        order_by=order,
        limit=limit,
        time_range=time_range,
        comparison=comparison,
    )
