"""AST -> one SQLAlchemy Core SELECT, after validating every name against the catalogue.

Only names the catalogue resolves reach SQL (as quoted identifiers built by SQLAlchemy); every
value is a bound parameter; the result is always a single SELECT. Nothing a translator (or a
model) writes is ever executed as text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from hotcrm_ai.errors import ConfigError, FieldError, ValidationError
from hotcrm_ai.reporting.ast import AGG_FUNCS, BUCKETS, COMPARISONS, OPERATORS, Aggregate, Filter, GroupBy, Query
from hotcrm_ai.reporting.catalogue import DATE_TYPES, NUMERIC_TYPES, Catalogue, ResolvedField

MAX_ITEMS = 20  # filters, groups, aggregates, order terms, fields
MAX_IN = 200
_ALIAS = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FUNC_LABEL = {"count": "Count of", "sum": "Total", "avg": "Average", "min": "Minimum", "max": "Maximum"}
_SA_TYPES = {
    "integer": sa.Integer,
    "number": sa.Float,
    "currency": sa.Float,
    "percent": sa.Float,
    "string": sa.String,
    "date": sa.Date,
    "datetime": sa.DateTime,
    "boolean": sa.Boolean,
}


# -- dialect-specific expressions ------------------------------------------------------------------
class Bucket(FunctionElement[str]):
    """A date cut to a text bucket: day/week ``YYYY-MM-DD`` (week = its Monday), ``YYYY-MM``, ``YYYY-Qn``, ``YYYY``."""

    type = sa.String()
    inherit_cache = True
    name = "bucket"


class HoursBetween(FunctionElement[float]):
    type = sa.Float()
    inherit_cache = True
    name = "hours_between"


def _unit(element: Bucket) -> str:
    unit = str(list(element.clauses)[1].name).strip("'")
    if unit not in BUCKETS:
        raise ValueError(f"bucket: expected one of {BUCKETS}, got {unit!r}")
    return unit


@compiles(Bucket)
def _bucket_pg(element: Bucket, compiler: Any, **kw: Any) -> str:
    col = compiler.process(next(iter(element.clauses)), **kw)
    unit = _unit(element)
    fmt = {"day": "YYYY-MM-DD", "week": "YYYY-MM-DD", "month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}[unit]
    if unit == "week":
        col = f"date_trunc('week', {col})"
    return f"to_char({col}, '{fmt}')"


@compiles(Bucket, "sqlite")
def _bucket_sqlite(element: Bucket, compiler: Any, **kw: Any) -> str:
    col = compiler.process(next(iter(element.clauses)), **kw)
    unit = _unit(element)
    if unit == "day":
        return f"strftime('%Y-%m-%d', {col})"
    if unit == "week":
        return f"strftime('%Y-%m-%d', {col}, 'weekday 0', '-6 days')"
    if unit == "month":
        return f"strftime('%Y-%m', {col})"
    if unit == "quarter":
        return f"(strftime('%Y', {col}) || '-Q' || ((CAST(strftime('%m', {col}) AS INTEGER) + 2) / 3))"
    return f"strftime('%Y', {col})"


@compiles(HoursBetween)
def _hours_pg(element: HoursBetween, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"


@compiles(HoursBetween, "sqlite")
def _hours_sqlite(element: HoursBetween, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 24.0)"


# -- result description ---------------------------------------------------------------------------
@attrs.frozen
class Column:
    name: str
    type: str  # string | number | currency | percent | date
    label: str


@attrs.frozen
class AggInfo:
    alias: str
    func: str
    metric: str | None
    type: str
    label: str


@attrs.frozen
class Compiled:
    select: sa.Select[Any]
    totals: sa.Select[Any] | None  # the same aggregates over the whole filtered set (no grouping)
    columns: list[Column]
    aggregates: list[AggInfo]
    dimensions: list[str]
    time_field: str | None
    limit: int


def _err(field: str, expected: str, got: Any = "") -> ValidationError:
    return ValidationError([FieldError(field, expected, repr(got)[:80] if got != "" else "")], subject="query")


def _out_type(t: str) -> str:
    return {
        "integer": "number",
        "number": "number",
        "currency": "currency",
        "percent": "percent",
        "date": "date",
        "datetime": "date",
    }.get(t, "string")


_TABLES: dict[int, tuple[Catalogue, dict[str, sa.Table]]] = {}


def _tables(cat: Catalogue) -> dict[str, sa.Table]:
    """Table objects for a catalogue, built once: stable tables let SQLAlchemy reuse compiled SQL."""
    hit = _TABLES.get(id(cat.data))
    if hit is not None and hit[0].data is cat.data:
        return hit[1]
    meta = sa.MetaData()
    tables = {
        name: sa.Table(spec["table"], meta, *(sa.Column(f, _SA_TYPES[s["type"]]()) for f, s in spec["fields"].items()))
        for name, spec in cat.objects.items()
    }
    if len(_TABLES) > 8:
        _TABLES.clear()
    _TABLES[id(cat.data)] = (cat, tables)
    return tables


class _Builder:
    def __init__(self, cat: Catalogue, query: Query) -> None:
        self.cat = cat
        self.q = query
        self.obj = cat.object(query.object)
        self.tables = _tables(cat)
        self.base = self._table(query.object, None)
        self.joins: dict[str, sa.Table] = {}

    def _table(self, obj_name: str, alias: str | None) -> Any:
        t = self.tables[obj_name]
        return t.alias(alias) if alias else t

    def col(self, path: str, where: str) -> tuple[sa.ColumnElement[Any], ResolvedField]:
        rf = self.cat.resolve(self.q.object, path, where=where)
        if rf.join is None:
            return self.base.c[rf.column], rf
        if rf.join not in self.joins:
            self.joins[rf.join] = self._table(rf.object, f"j_{rf.join}")
        return self.joins[rf.join].c[rf.column], rf

    def from_clause(self) -> Any:
        frm = self.base
        for name, table in self.joins.items():
            j = self.obj["joins"][name]
            frm = frm.outerjoin(table, self.base.c[j["local"]] == table.c[j["remote"]])
        return frm


def _value(rf: ResolvedField, value: Any, where: str) -> Any:
    """Check a filter value against the field type; dates become date/datetime objects."""
    if isinstance(value, bool) and rf.type != "boolean":
        raise _err(where, f"a {rf.type} value", value)
    if rf.type in NUMERIC_TYPES:
        if not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
            raise _err(where, "a finite number", value)
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            # beyond a 64-bit integer the driver cannot bind it (SQLite raised OverflowError): compare as float
            try:
                return float(value)
            except OverflowError:
                raise _err(where, "a finite number", value) from None
        return value
    if rf.type in DATE_TYPES:
        if not isinstance(value, str) or not _DATE.match(value):
            raise _err(where, "a date YYYY-MM-DD", value)
        try:
            d = date.fromisoformat(value)
        except ValueError:
            raise _err(where, "a valid calendar date", value) from None
        return datetime(d.year, d.month, d.day) if rf.type == "datetime" else d
    if rf.type == "boolean":
        if not isinstance(value, bool):
            raise _err(where, "true or false", value)
        return value
    if not isinstance(value, str) or len(value) > 200:
        raise _err(where, "a string of at most 200 characters", value)
    if any(ord(c) < 32 for c in value):
        raise _err(where, "a string without control characters", value)
    return value


def _condition(b: _Builder, f: Filter, where: str) -> sa.ColumnElement[bool]:
    if not isinstance(f, Filter):
        raise _err(where, "a filter")
    if f.op not in OPERATORS:
        raise _err(f"{where}.op", f"one of {', '.join(OPERATORS)}", f.op)
    col, rf = b.col(f.field, f"{where}.field")
    if f.op in ("is_null", "not_null"):
        return col.is_(None) if f.op == "is_null" else col.is_not(None)
    if f.op in ("in", "not_in"):
        if not isinstance(f.value, (list, tuple)) or not 1 <= len(f.value) <= MAX_IN:
            raise _err(f"{where}.value", f"a list of 1-{MAX_IN} values", f.value)
        vals = [_value(rf, v, f"{where}.value") for v in f.value]
        return col.in_(vals) if f.op == "in" else sa.or_(col.not_in(vals), col.is_(None))
    v = _value(rf, f.value, f"{where}.value")
    if f.op == "contains":
        if not isinstance(v, str):
            raise _err(f"{where}.op", "contains only on text fields", f.op)
        return sa.func.lower(col).contains(v.lower(), autoescape=True)
    ops = {"eq": col.__eq__, "ne": col.__ne__, "lt": col.__lt__, "lte": col.__le__, "gt": col.__gt__, "gte": col.__ge__}
    cond = ops[f.op](v)
    if f.op == "ne":
        cond = sa.or_(cond, col.is_(None))
    return cond


def _and(conds: Sequence[sa.ColumnElement[bool]]) -> sa.ColumnElement[bool] | None:
    return sa.and_(*conds) if conds else None


def _aggregate(
    b: _Builder, a: Aggregate, i: int, push: bool, where_out: list[sa.ColumnElement[bool]]
) -> tuple[sa.ColumnElement[Any], AggInfo, str | None]:
    """The SQL aggregate for one AST aggregate; metric filters go to WHERE when ``push`` (single aggregate)."""
    where = f"aggregates[{i}]"
    if not isinstance(a, Aggregate) or a.func not in AGG_FUNCS:
        raise _err(f"{where}.func", f"one of {', '.join(AGG_FUNCS)}", getattr(a, "func", a))
    if a.alias is not None and (not isinstance(a.alias, str) or not _ALIAS.match(a.alias)):
        raise _err(f"{where}.alias", "lower-case letters, digits and '_' (max 63)", a.alias)
    if a.func == "share":
        return _share(b, a, where, push, where_out)
    if a.where:
        raise _err(f"{where}.where", f"empty unless func is 'share' (func is {a.func!r})", a.where)
    if a.func == "metric":
        if not isinstance(a.metric, str):
            raise _err(f"{where}.metric", "a catalogue metric name", a.metric)
        m = b.cat.metric(a.metric)
        if m["object"] != b.q.object:
            raise _err(f"{where}.metric", f"a metric of {b.q.object} ({a.metric} belongs to {m['object']})", a.metric)
        conds = [
            _condition(b, Filter(**c) if isinstance(c, dict) else c, f"{where}.metric.where")
            for c in m.get("where", [])
        ]
        cond = _and(conds)
        if push and cond is not None:
            where_out.append(cond)
            cond = None
        kind = m["kind"]
        expr: sa.ColumnElement[Any]
        if kind == "count":
            expr = sa.func.count() if cond is None else sa.func.count(sa.case((cond, 1)))
        elif kind == "ratio":
            num = _and([_condition(b, Filter(**c), f"{where}.metric.numerator") for c in m["numerator"]])
            if num is None:  # an empty numerator would count nothing (or everything): a catalogue mistake
                raise ConfigError(f"reporting catalogue: metrics.{a.metric}.numerator: expected at least one filter")
            num_cond = num if cond is None else sa.and_(num, cond)
            den = sa.func.count() if cond is None else sa.func.sum(sa.case((cond, 1), else_=0))
            expr = sa.cast(sa.func.sum(sa.case((num_cond, 1), else_=0)), sa.Float) / sa.func.nullif(den, 0)
        elif kind in ("avg_duration_hours", "avg_duration_days"):
            start, _ = b.col(m["start_field"], f"{where}.metric.start_field")
            end, _ = b.col(m["end_field"], f"{where}.metric.end_field")
            val: Any = HoursBetween(start, end) if kind == "avg_duration_hours" else HoursBetween(start, end) / 24.0
            expr = sa.func.avg(val if cond is None else sa.case((cond, val)))
        else:
            col, _ = b.col(m["field"], f"{where}.metric.field")
            fn = getattr(sa.func, kind)
            expr = fn(col if cond is None else sa.case((cond, col)))
        alias = a.alias or a.metric
        return (
            expr,
            AggInfo(alias, "metric", a.metric, _out_type(m.get("type", "number")), m.get("label", alias)),
            m.get("date_field"),
        )
    if a.metric is not None:
        raise _err(f"{where}.metric", f"null unless func is 'metric' (func is {a.func!r})", a.metric)
    if a.func == "count" and a.field in (None, "id", "*"):
        alias = a.alias or "count"
        return sa.func.count(), AggInfo(alias, "count", None, "number", "Count"), None
    if not isinstance(a.field, str):
        raise _err(f"{where}.field", f"a numeric field for {a.func}", a.field)
    col, rf = b.col(a.field, f"{where}.field")
    if a.func == "count":
        expr = sa.func.count(col)
    else:
        if rf.type not in NUMERIC_TYPES and not (a.func in ("min", "max") and rf.type in DATE_TYPES):
            raise _err(f"{where}.field", f"a numeric field for {a.func}", a.field)
        expr = getattr(sa.func, a.func)(col)
    alias = a.alias or f"{a.func}_{rf.output}"
    typ = "number" if a.func == "count" or (a.func == "avg" and rf.type == "integer") else _out_type(rf.type)
    return expr, AggInfo(alias, a.func, None, typ, f"{_FUNC_LABEL[a.func]} {rf.label}"), None


def _share(
    b: _Builder, a: Aggregate, where: str, push: bool, where_out: list[sa.ColumnElement[bool]]
) -> tuple[sa.ColumnElement[Any], AggInfo, str | None]:
    """The fraction of a sum/count metric, of sum(field), or of the record count, from the ``where`` segment."""
    if not isinstance(a.where, list) or not a.where or len(a.where) > MAX_ITEMS:
        raise _err(f"{where}.where", f"1 to {MAX_ITEMS} filters naming the segment", a.where)
    segment = _and([_condition(b, f, f"{where}.where[{j}]") for j, f in enumerate(a.where)])
    assert segment is not None
    cond: sa.ColumnElement[bool] | None = None
    value: Any = sa.literal(1)
    label, date = "Records", None
    if a.metric is not None:
        m = b.cat.metric(a.metric)
        if m["object"] != b.q.object or m["kind"] not in ("sum", "count"):
            raise _err(f"{where}.metric", f"a sum or count metric of {b.q.object}", a.metric)
        cond = _and([_condition(b, Filter(**c), f"{where}.metric.where") for c in m.get("where", [])])
        if m["kind"] == "sum":
            value, _ = b.col(m["field"], f"{where}.metric.field")
        label, date = m.get("label", a.metric), m.get("date_field")
    elif a.field is not None:
        value, rf = b.col(a.field, f"{where}.field")
        if rf.type not in NUMERIC_TYPES:
            raise _err(f"{where}.field", "a numeric field for share", a.field)
        label = rf.label
    if push and cond is not None:
        where_out.append(cond)
        cond = None
    num_cond = segment if cond is None else sa.and_(cond, segment)
    den: Any = sa.func.sum(value if cond is None else sa.case((cond, value), else_=0))
    expr = sa.cast(sa.func.sum(sa.case((num_cond, value), else_=0)), sa.Float) / sa.func.nullif(den, 0)
    alias = a.alias or "share"
    return expr, AggInfo(alias, "share", a.metric, "percent", f"Share of {label}"), date


def validate(query: Query, cat: Catalogue) -> None:
    """Raise ValidationError (listing the bad field) unless ``query`` only uses catalogue things."""
    compile_query(query, cat, limit=1)


def compile_query(query: Query, cat: Catalogue, *, limit: int) -> Compiled:
    if not isinstance(query, Query):
        raise _err("query", "a Query", type(query).__name__)
    b = _Builder(cat, query)
    for name in ("fields", "filters", "group_by", "aggregates", "order_by"):
        items = getattr(query, name)
        if not isinstance(items, (list, tuple)) or len(items) > MAX_ITEMS:
            raise _err(
                name, f"a list of at most {MAX_ITEMS} items", len(items) if isinstance(items, (list, tuple)) else items
            )
    if query.limit is not None and (
        isinstance(query.limit, bool) or not isinstance(query.limit, int) or query.limit < 1
    ):
        raise _err("limit", "a positive integer or null", query.limit)

    where: list[sa.ColumnElement[bool]] = [_condition(b, f, f"filters[{i}]") for i, f in enumerate(query.filters)]
    aggs = list(query.aggregates)
    if query.group_by and not aggs:
        aggs = [Aggregate("count", alias="count")]
    agg_exprs: list[tuple[sa.ColumnElement[Any], AggInfo]] = []
    metric_date: str | None = None
    for i, a in enumerate(aggs):
        expr, info, mdate = _aggregate(b, a, i, len(aggs) == 1, where)
        metric_date = metric_date or mdate
        agg_exprs.append((expr, info))

    # time range: on the named field, else the first metric's date field, else the object's
    time_field: str | None = None
    if query.time_range is not None:
        tr = query.time_range
        time_field = tr.field or metric_date or b.obj.get("date_field")
        if not time_field:
            raise _err("time_range.field", f"a date field ({query.object} has no default date field)")
        col, rf = b.col(time_field, "time_range.field")
        if rf.type not in DATE_TYPES:
            raise _err("time_range.field", "a date or datetime field", time_field)
        for key in ("start", "end"):
            if not isinstance(getattr(tr, key), str) or not _DATE.match(getattr(tr, key)):
                raise _err(f"time_range.{key}", "a date YYYY-MM-DD", getattr(tr, key))
        try:
            start, end = date.fromisoformat(tr.start), date.fromisoformat(tr.end)
        except ValueError:
            raise _err("time_range", "valid calendar dates", f"{tr.start}..{tr.end}") from None
        if end < start:
            raise _err("time_range.end", f"a date on or after start {tr.start}", tr.end)
        if rf.type == "datetime":
            where += [
                col >= datetime(start.year, start.month, start.day),
                col < datetime(end.year, end.month, end.day) + timedelta(days=1),
            ]
        else:
            where += [col >= start, col <= end]
    if query.comparison is not None:
        c = query.comparison
        if c.type not in COMPARISONS:
            raise _err("comparison.type", f"one of {', '.join(COMPARISONS)}", c.type)
        for key in ("start", "end"):
            if not isinstance(getattr(c, key), str) or not _DATE.match(getattr(c, key)):
                raise _err(f"comparison.{key}", "a date YYYY-MM-DD", getattr(c, key))

    dims: list[tuple[sa.ColumnElement[Any], Column]] = []
    for i, g in enumerate(query.group_by):
        if not isinstance(g, GroupBy):
            raise _err(f"group_by[{i}]", "a group")
        col, rf = b.col(g.field, f"group_by[{i}].field")
        if g.bucket is not None:
            if g.bucket not in BUCKETS:
                raise _err(f"group_by[{i}].bucket", f"one of {', '.join(BUCKETS)}", g.bucket)
            if rf.type not in DATE_TYPES:
                raise _err(f"group_by[{i}].field", "a date field when bucketed", g.field)
            name = (
                g.bucket
                if rf.path == (time_field or metric_date or b.obj.get("date_field"))
                else f"{rf.output}_{g.bucket}"
            )
            dims.append(
                (Bucket(col, sa.literal_column(f"'{g.bucket}'")).label(name), Column(name, "string", g.bucket.title()))
            )
        else:
            dims.append((col.label(rf.output), Column(rf.output, _out_type(rf.type), rf.label)))

    columns: list[Column] = [c for _, c in dims] + [Column(i.alias, i.type, i.label) for _, i in agg_exprs]
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise _err("aggregates.alias", "distinct output column names", names)

    if agg_exprs:
        if query.fields:
            missing = [
                f
                for f in query.fields
                if f not in names and b.cat.resolve(query.object, f, where="fields").output not in names
            ]
            if missing:
                raise _err("fields", "only grouped fields when aggregating (add them to group_by)", missing)
        sel_cols: list[Any] = [e for e, _ in dims] + [e.label(i.alias) for e, i in agg_exprs]
    else:
        fields = query.fields or b.obj.get("display") or list(b.obj["fields"])
        sel_cols = []
        columns = []
        for i, f in enumerate(fields):
            col, rf = b.col(f, f"fields[{i}]")
            sel_cols.append(col.label(rf.output))
            columns.append(Column(rf.output, _out_type(rf.type), rf.label))
        names = [c.name for c in columns]
        if len(set(names)) != len(names):
            raise _err("fields", "distinct fields", names)

    # ordering: explicit terms, then a deterministic default
    order: list[Any] = []
    out_map = {c.name: e for c, e in zip(columns, sel_cols, strict=True)}
    for i, o in enumerate(query.order_by):
        if o.direction not in ("asc", "desc"):
            raise _err(f"order_by[{i}].direction", "asc or desc", o.direction)
        if o.field in out_map:
            target: Any = sa.literal_column(_quote(b, o.field))
        else:
            if agg_exprs:
                raise _err(f"order_by[{i}].field", f"an output column ({', '.join(out_map)})", o.field)
            target, _ = b.col(o.field, f"order_by[{i}].field")
        order.append(target.desc().nulls_last() if o.direction == "desc" else target.asc().nulls_last())
    if not order:
        if dims and any(g.bucket for g in query.group_by):
            order = [sa.literal_column(_quote(b, c.name)).asc() for _, c in dims]
        elif agg_exprs and dims:
            order = [sa.literal_column(_quote(b, agg_exprs[0][1].alias)).desc().nulls_last()]
    for _, dim in dims:
        order.append(sa.literal_column(_quote(b, dim.name)).asc().nulls_last())
    if not agg_exprs and "id" in b.base.c:
        order.append(b.base.c["id"].asc())

    stmt = sa.select(*sel_cols).select_from(b.from_clause())
    cond = _and(where)
    if cond is not None:
        stmt = stmt.where(cond)
    if dims:
        stmt = stmt.group_by(*[e for e, _ in dims])
    if order:
        stmt = stmt.order_by(*order)
    eff = min(query.limit, limit) if query.limit else limit
    # one row past the cap lets the executor tell "the cap cut the answer" (summary.truncated); without
    # it LIMIT == cap and truncated was always False. A limit the question asked for ("top 10") is the answer.
    asked = query.limit is not None and query.limit <= limit
    stmt = stmt.limit(eff if asked else eff + 1)

    totals = None
    if agg_exprs and dims:
        totals = sa.select(*[e.label(i.alias) for e, i in agg_exprs]).select_from(b.from_clause())
        if cond is not None:
            totals = totals.where(cond)
    return Compiled(stmt, totals, columns, [i for _, i in agg_exprs], [c.name for _, c in dims], time_field, eff)


def _quote(b: _Builder, name: str) -> str:
    """Output names are checked identifiers (``_ALIAS`` or catalogue names); quote them for ORDER BY."""
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", name):
        raise _err("order_by.field", "an output column name", name)
    return '"' + name + '"'
