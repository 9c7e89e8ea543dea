"""The governed metrics API: ``query(metrics=[...], group_by=[...], time={...}, filters=[...], ...)``.

Shaped like the semantic layers teams already use (Cube's query format, dbt MetricFlow): callers
name catalogue metrics and dimensions instead of writing SQL or a question. The arguments become
the same Query AST a translator produces, so validation, tenancy and the read-only executor are the
ones ``ask`` uses. ``query_call`` goes the other way: the call that reproduces an answered question.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from hotcrm_ai.errors import FieldError, ValidationError
from hotcrm_ai.reporting import periods
from hotcrm_ai.reporting.ast import (
    AGG_FUNCS,
    BUCKETS,
    OPERATORS,
    Aggregate,
    Comparison,
    Filter,
    GroupBy,
    OrderBy,
    Query,
    TimeRange,
)
from hotcrm_ai.reporting.catalogue import Catalogue

# "sum:opportunity.amount", "count:case": a plain aggregate where no named metric fits
_AGG_SPEC = re.compile(r"^(?P<func>count|sum|avg|min|max):(?P<object>[a-z_]+)(?:\.(?P<field>[a-z_.]+))?$")
_CMP_KINDS = ("previous_period", "year_over_year")


def _fail(path: str, expected: str, got: Any) -> ValidationError:
    return ValidationError([FieldError(path, expected, repr(got)[:80])], subject="query")


def _names(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, Mapping)):
        return [value]
    if not isinstance(value, Sequence) or len(value) > 20:
        raise _fail(path, "a name or a list of at most 20", value)
    return list(value)


def _aggregates(cat: Catalogue, metrics: Any) -> tuple[str, list[Aggregate]]:
    specs = _names(metrics, "metrics")
    if not specs:
        raise _fail("metrics", f"at least one of {', '.join(cat.metrics)} (or 'count:<object>')", metrics)
    objects: list[str] = []
    aggs: list[Aggregate] = []
    for i, spec in enumerate(specs):
        if isinstance(spec, str) and spec in cat.metrics:
            objects.append(cat.metrics[spec]["object"])
            aggs.append(Aggregate("metric", metric=spec, alias=spec))
            continue
        m = _AGG_SPEC.match(spec) if isinstance(spec, str) else None
        if m is None or m.group("object") not in cat.objects:
            raise _fail(f"metrics[{i}]", f"a metric ({', '.join(cat.metrics)}) or 'func:object.field'", spec)
        func, field = m.group("func"), m.group("field")
        if func != "count" and not field:
            raise _fail(f"metrics[{i}]", f"a field after the object ('{func}:object.field')", spec)
        objects.append(m.group("object"))
        alias = "count" if func == "count" and not field else f"{func}_{(field or '').replace('.', '_')}"
        aggs.append(Aggregate(func, field=None if func == "count" and not field else field, alias=alias))
    if len(set(objects)) > 1:
        raise _fail("metrics", "metrics of one object", sorted(set(objects)))
    return objects[0], aggs


def _period(spec: Any, now: date, path: str) -> periods.Period:
    if isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) == 2:
        try:
            start, end = (date.fromisoformat(str(x)) for x in spec)
        except ValueError:
            raise _fail(path, "[start, end] as ISO dates", spec) from None
        if end < start:
            raise _fail(path, "an end on or after the start", spec)
        return periods.Period(start, end, f"{start} to {end}", "range")
    if not isinstance(spec, str) or len(spec) > 60:
        raise _fail(path, "a period ('last quarter', '2025', 'Q3 2025') or [start, end]", spec)
    text = f" {spec.strip().lower()} "
    found, rest = periods.find_period(text, now)
    if found is None or rest.strip():
        raise _fail(path, "a period ('last quarter', '2025', 'Q3 2025', 'last 30 days') or [start, end]", spec)
    return found


def _time(
    cat: Catalogue, obj: str, aggs: list[Aggregate], time: Any, now: date
) -> tuple[TimeRange | None, Comparison | None, GroupBy | None]:
    if time is None:
        return None, None, None
    if not isinstance(time, Mapping) or set(time) - {"field", "grain", "range", "compare"}:
        raise _fail("time", "a mapping with keys field, grain, range, compare", time)
    field = time.get("field")
    if field is not None:
        rf = cat.resolve(obj, field, where="time.field")
        if rf.type not in ("date", "datetime"):
            raise _fail("time.field", "a date field", field)
    grain = time.get("grain")
    if grain is not None and grain not in BUCKETS:
        raise _fail("time.grain", f"one of {', '.join(BUCKETS)}", grain)
    rng = None
    cmp_ = None
    if time.get("range") is not None:
        p = _period(time["range"], now, "time.range")
        rng = TimeRange(p.start.isoformat(), p.end.isoformat(), field, p.label)
        compare = time.get("compare")
        if compare is not None:
            if compare in _CMP_KINDS:
                cp = periods.year_over_year(p) if compare == "year_over_year" else periods.previous_period(p)
                kind = compare
            else:
                cp, kind = _period(compare, now, "time.compare"), "custom"
            cmp_ = Comparison(kind, cp.start.isoformat(), cp.end.isoformat(), cp.label)
    elif time.get("compare") is not None:
        raise _fail("time.compare", "a range to compare with", time.get("compare"))
    bucket = None
    if grain is not None:
        bucket_field = field or _date_field(cat, obj, aggs)
        if bucket_field is None:
            raise _fail("time.field", f"a date field of {obj} to cut by {grain}", None)
        bucket = GroupBy(bucket_field, grain)
    return rng, cmp_, bucket


def _date_field(cat: Catalogue, obj: str, aggs: list[Aggregate]) -> str | None:
    """The date a period and a grain apply to by default: the first metric's, else the object's."""
    for a in aggs:
        if a.func == "metric" and a.metric and cat.metrics[a.metric].get("date_field"):
            return str(cat.metrics[a.metric]["date_field"])
    return cat.objects[obj].get("date_field")


def _filters(filters: Any) -> list[Filter]:
    out = []
    for i, f in enumerate(_names(filters, "filters")):
        if isinstance(f, Mapping):
            if set(f) - {"field", "op", "value"} or "field" not in f:
                raise _fail(f"filters[{i}]", "a mapping with field, op, value", f)
            op = f.get("op", "eq")
        elif isinstance(f, Sequence) and not isinstance(f, str) and len(f) == 3:
            f = {"field": f[0], "op": f[1], "value": f[2]}
            op = f["op"]
        else:
            raise _fail(f"filters[{i}]", "{'field': ..., 'op': ..., 'value': ...} or (field, op, value)", f)
        if op not in OPERATORS:
            raise _fail(f"filters[{i}].op", f"one of {', '.join(OPERATORS)}", op)
        value = f.get("value")
        out.append(Filter(str(f["field"]), op, list(value) if isinstance(value, (list, tuple)) else value))
    return out


def _order(order_by: Any) -> list[OrderBy]:
    out = []
    for i, o in enumerate(_names(order_by, "order_by")):
        if isinstance(o, str):
            out.append(OrderBy(o.lstrip("-+"), "desc" if o.startswith("-") else "asc"))
        elif isinstance(o, Mapping) and "field" in o:
            out.append(OrderBy(str(o["field"]), str(o.get("direction", "desc"))))
        else:
            raise _fail(f"order_by[{i}]", "'-name' (descending), 'name' or {'field', 'direction'}", o)
    return out


def build_query(
    cat: Catalogue,
    *,
    metrics: Any,
    group_by: Any = (),
    time: Any = None,
    filters: Any = (),
    order_by: Any = (),
    limit: int | None = None,
    now: date,
) -> Query:
    """The Query for a metrics call. ``metrics``: catalogue metric names (or ``"count:case"``,
    ``"sum:campaign.budget"``), all of one object; ``group_by``: dimension names of that object
    ("region", "owner", "stage"); ``time``: ``{"field": date field (default: the metric's),
    "grain": day|week|month|quarter|year, "range": "last quarter" | "2025" | [start, end],
    "compare": "previous_period" | "year_over_year" | a period}``; ``filters``: ``{"field", "op",
    "value"}`` or ``(field, op, value)``; ``order_by``: ``"-revenue"`` (descending) or ``"region"``."""
    obj, aggs = _aggregates(cat, metrics)
    groups = []
    for i, g in enumerate(_names(group_by, "group_by")):
        if not isinstance(g, str):
            raise _fail(f"group_by[{i}]", "a dimension name", g)
        cat.resolve(obj, g, where=f"group_by[{i}]")
        groups.append(GroupBy(g))
    rng, cmp_, bucket = _time(cat, obj, aggs, time, now)
    if bucket is not None:
        groups.insert(0, bucket)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise _fail("limit", "a positive integer", limit)
    assert set(AGG_FUNCS) >= {a.func for a in aggs}
    return Query(
        object=obj,
        filters=_filters(filters),
        group_by=groups,
        aggregates=aggs,
        order_by=_order(order_by),
        limit=limit,
        time_range=rng,
        comparison=cmp_,
    )


def query_call(query: Query, cat: Catalogue) -> dict[str, Any] | None:
    """The ``query(...)`` arguments that reproduce ``query`` (None for a record list, which is not a metric)."""
    if not query.aggregates or any(a.func == "share" for a in query.aggregates):
        return None  # a record list or a share of a segment is not a governed metric
    metrics = []
    for a in query.aggregates:
        if a.func == "metric":
            metrics.append(a.metric)
        elif a.func == "count" and a.field in (None, "id", "*"):
            metrics.append(f"count:{query.object}")
        else:
            metrics.append(f"{a.func}:{query.object}.{a.field}")
    call: dict[str, Any] = {"metrics": metrics}
    dims = [g.field for g in query.group_by if g.bucket is None]
    if dims:
        call["group_by"] = dims
    time: dict[str, Any] = {}
    bucket = next((g for g in query.group_by if g.bucket is not None), None)
    if bucket is not None:
        time["grain"] = bucket.bucket
        time["field"] = bucket.field
    if query.time_range is not None:
        time["range"] = [query.time_range.start, query.time_range.end]
        if query.time_range.field:
            time["field"] = query.time_range.field
        if query.comparison is not None:
            c = query.comparison
            time["compare"] = c.type if c.type in _CMP_KINDS else [c.start, c.end]
    if time:
        call["time"] = time
    if query.filters:
        call["filters"] = [{"field": f.field, "op": f.op, "value": f.value} for f in query.filters]
    if query.order_by:
        call["order_by"] = [("-" if o.direction == "desc" else "") + o.field for o in query.order_by]
    if query.limit is not None:
        call["limit"] = query.limit
    return call


def describe(cat: Catalogue) -> dict[str, Any]:
    """Metrics (with their object, kind and date), dimensions per object, and event dates."""
    dims: dict[str, list[str]] = {}
    for oname, spec in cat.objects.items():
        names = [f for f, s in spec["fields"].items() if s.get("categorical")]
        names += [a for a in spec.get("aliases", {}) if a not in names]
        dims[oname] = names
    return {
        "metrics": {
            name: {
                "object": m["object"],
                "label": m.get("label", name),
                "kind": m["kind"],
                "date_field": m.get("date_field"),
                "synonyms": list(m.get("synonyms", []))[:6],
            }
            for name, m in cat.metrics.items()
        },
        "dimensions": dims,
        "date_fields": {
            o: [f for f, s in spec["fields"].items() if s["type"] in ("date", "datetime")]
            for o, spec in cat.objects.items()
        },
        "event_dates": {
            o: [{"verbs": r["pattern"], "field": r["field"]} for r in rules]
            for o, rules in cat.data.get("event_dates", {}).items()
        },
        "status_groups": {
            key: {"field": vs["field"], "op": vs["op"], "value": vs["value"], "words": vs.get("synonyms", [])}
            for key, vs in cat.data.get("value_sets", {}).items()
        },
    }
