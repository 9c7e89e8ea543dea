"""ReportingEngine: question -> translator -> AST -> validation -> one read-only SELECT -> answer.

The translator never sees the database, the database never sees the translator's text: the AST
is validated against the catalogue and compiled with bound parameters; execution is read-only
with a row cap and a time limit (see execute.py).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import attrs

from hotcrm_ai.errors import HotCRMAIError, ReportingError, ValidationError
from hotcrm_ai.reporting import narrative as nar
from hotcrm_ai.reporting.ast import Aggregate, Filter, GroupBy, NotUnderstood, OrderBy, Query, TimeRange, Translated
from hotcrm_ai.reporting.catalogue import Catalogue
from hotcrm_ai.reporting.compile import Column, Compiled, compile_query
from hotcrm_ai.reporting.demo_data import default_demo_path, ensure_demo_sqlite
from hotcrm_ai.reporting.execute import ReadOnlyExecutor, _plain

if TYPE_CHECKING:
    from hotcrm_ai.config import ReportingSettings
    from hotcrm_ai.descriptors import QueryTranslatorSpec
    from hotcrm_ai.reporting.llm_translator import StructuredModels


@attrs.frozen
class ReportResult:
    question: str
    understood: bool
    message: str = ""
    query: Query | None = None
    sql: str = ""
    params: dict[str, Any] = attrs.field(factory=dict)
    columns: list[Column] = attrs.field(factory=list)
    rows: list[dict[str, Any]] = attrs.field(factory=list)
    summary: dict[str, Any] = attrs.field(factory=dict)
    narrative: str = ""
    visualization: dict[str, Any] = attrs.field(factory=lambda: {"type": "table", "config": {"columns": []}})
    follow_ups: list[str] = attrs.field(factory=list)
    confidence: int = 0
    comparison: dict[str, Any] | None = None
    translator: str = ""
    suggestions: list[str] = attrs.field(factory=list)
    unknown: list[str] = attrs.field(factory=list)  # the words of the question that mapped to nothing
    corrections: dict[str, str] = attrs.field(factory=dict)  # misspelt word -> the word it was read as
    query_call: dict[str, Any] | None = None  # the equivalent ``ai.query(**query_call)``, to pin the answer
    tenant: str | None = None


NOW_MIN, NOW_MAX = date(1000, 1, 1), date(9000, 12, 31)
NAME_LIMIT = 50_000  # record names read per object for matching named records
MAX_TENANT_CATALOGUES = 64


def _as_date(now: Any) -> date:
    if now is None:
        return date.today()
    day: date | None = None
    if isinstance(now, datetime):
        day = now.date()
    elif isinstance(now, date):
        day = now
    elif isinstance(now, str):
        try:
            day = date.fromisoformat(now[:10])
        except ValueError:
            pass
    if day is None:
        raise ValidationError(f"a date, datetime or ISO date string, got {now!r:.40}", subject="now")
    if not NOW_MIN <= day <= NOW_MAX:  # relative periods ("last year", "vs previous period") need room either side
        raise ValidationError(f"a date between {NOW_MIN} and {NOW_MAX}, got {day}", subject="now")
    return day


def _growth(current: Any, previous: Any) -> float | None:
    """Relative change from ``previous`` to ``current`` (0.25 = +25%); None when it is undefined."""
    if not isinstance(current, (int, float)) or not isinstance(previous, (int, float)) or previous == 0:
        return None
    return (current - previous) / abs(previous)


class ReportingEngine:
    """Answers questions from the configured database (default: the embedded SQLite demo file)."""

    def __init__(
        self,
        settings: ReportingSettings,
        translators: Mapping[str, QueryTranslatorSpec],
        *,
        models: StructuredModels | None = None,
    ) -> None:
        self.settings = settings
        self.models = models  # structured-output calls to registered models, for model-backed translators
        self._specs = dict(translators)
        self._translators: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._executor: ReadOnlyExecutor | None = None
        self._catalogues: dict[str | None, Catalogue] = {}  # tenant (None: all) -> catalogue with its values
        self.base_catalogue = Catalogue.load(settings.catalogue)

    @property
    def database_url(self) -> str:
        if self.settings.database_url is not None:
            return self.settings.database_url.reveal()
        return f"sqlite:///{default_demo_path()}"

    @property
    def executor(self) -> ReadOnlyExecutor:
        with self._lock:
            if self._executor is None:
                if self.settings.database_url is None:
                    ensure_demo_sqlite(default_demo_path())
                self._executor = ReadOnlyExecutor(
                    self.database_url, row_cap=self.settings.row_cap, timeout_s=self.settings.timeout_s
                )
            return self._executor

    @property
    def catalogue(self) -> Catalogue:
        """The catalogue plus the values present in the data, across all tenants (loaded once, read-only)."""
        return self.catalogue_for(None)

    def catalogue_for(self, tenant: str | None) -> Catalogue:
        """The catalogue plus the categorical values and record names of one tenant's rows only (all rows
        when ``tenant`` is None), so a translator never sees, and a name never matches, another tenant's data."""
        hit = self._catalogues.get(tenant)
        if hit is not None:
            return hit
        cat = self.base_catalogue
        fields = [(o, f, 200) for o, f in cat.categorical_fields()] + [(o, f, NAME_LIMIT) for o, f in cat.name_fields()]
        values: dict[str, tuple[str, ...]] = {}
        for obj, field, cap in fields:
            values[f"{obj}.{field}"] = self._distinct(cat, obj, field, cap, tenant)
        out = cat.with_values(values)
        with self._lock:
            if len(self._catalogues) >= MAX_TENANT_CATALOGUES:
                self._catalogues.pop(next(iter(self._catalogues)))
            self._catalogues[tenant] = out
        return out

    def _distinct(self, cat: Catalogue, obj: str, field: str, cap: int, tenant: str | None) -> tuple[str, ...]:
        if tenant is None:
            return self.executor.distinct_values(cat.objects[obj]["table"], field, limit=cap)
        col = cat.tenant_column
        try:
            cat.resolve(obj, col or "")
        except ValidationError:
            return ()  # an object without the tenant column is never answered for a tenant
        grouped = Query(
            object=obj,
            filters=[Filter(col or "", "eq", tenant), Filter(field, "not_null")],
            group_by=[GroupBy(field)],
            aggregates=[Aggregate("count", alias="n")],
            order_by=[OrderBy(cat.resolve(obj, field).output, "asc")],
        )
        rows = self.executor.run(compile_query(grouped, cat, limit=cap).select, cap=cap, catalogue_read=True).rows
        return tuple(str(r[0]) for r in rows)

    def _tenant(self, tenant: Any, all_tenants: bool) -> str | None:
        """The tenant a request is scoped to; with a tenant column, a request without one is refused
        unless it asks for all tenants explicitly."""
        if tenant is not None and not isinstance(tenant, str):
            raise ValidationError(f"a string, got {type(tenant).__name__}", subject="tenant")
        if not self.base_catalogue.tenant_column:
            return None
        if tenant is None and not all_tenants:
            raise ValidationError(
                f"a tenant (the catalogue scopes rows by {self.base_catalogue.tenant_column!r}); "
                "pass tenant=... or all_tenants=True",
                subject="tenant",
            )
        return None if all_tenants and tenant is None else tenant

    def translator(self, name: str | None = None) -> Any:
        name = name or self.settings.translator
        with self._lock:
            if name not in self._translators:
                spec = self._specs.get(name)
                if spec is None:
                    raise ReportingError(
                        f"reporting.translator: unknown translator {name!r}; "
                        f"registered: {', '.join(sorted(self._specs)) or 'none'}"
                    )
                self._translators[name] = self._build(spec)
            return self._translators[name]

    def _build(self, spec: QueryTranslatorSpec) -> Any:
        """``factory(options)``, plus ``models=`` for a factory that declares it (see QueryTranslatorSpec).
        A translator that declares its options gets its own keys of ``[reporting]`` only (the table
        also holds the other translators' keys)."""
        import inspect

        from hotcrm_ai.options import own_options

        options = dict(self.settings.options)
        if spec.options is not None:
            options = own_options(spec.options, options)
        try:
            takes_models = "models" in inspect.signature(spec.factory).parameters
        except (TypeError, ValueError):  # a callable without an introspectable signature
            takes_models = False
        return spec.factory(options, models=self.models) if takes_models else spec.factory(options)  # type: ignore[call-arg]

    # -- the one public verb ------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        *,
        now: Any = None,
        context: Mapping[str, Any] | None = None,
        limit: int = 100,
        narrative: bool = True,
        translator: str | None = None,
        tenant: str | None = None,
        all_tenants: bool = False,
    ) -> ReportResult:
        """Answer ``question``. With a catalogue ``tenant_column``, ``tenant`` (or ``context["tenant"]``)
        scopes every row and every value the translator sees; ``all_tenants=True`` is the explicit opt-out."""
        if not isinstance(question, str):
            raise ValidationError(f"a string, got {type(question).__name__}", subject="question")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError(f"a positive integer, got {limit!r:.40}", subject="limit")
        if context is not None and not isinstance(context, Mapping):
            raise ValidationError(f"a mapping, got {type(context).__name__}", subject="context")
        today = _as_date(now)
        ctx = dict(context or {})
        scope = self._tenant(tenant if tenant is not None else ctx.get("tenant"), all_tenants)
        ctx["tenant"] = scope
        cat = self.catalogue_for(scope)
        tr = self.translator(translator)
        try:
            out = tr.translate(question, catalogue=cat, now=today, context=ctx)
        except HotCRMAIError:
            raise
        except (ValueError, OverflowError) as exc:  # date arithmetic past year 1 / 9999 ("since 0001-01-01 vs ...")
            return self._not_understood(
                question, tr.name, f"The question's dates could not be worked out ({str(exc)[:120]}).", []
            )
        unknown: list[str] = []
        corrections: dict[str, str] = {}
        if isinstance(out, Translated):
            unknown, corrections, out = list(out.unknown), dict(out.corrections), out.query
        if isinstance(out, NotUnderstood):
            return self._not_understood(question, tr.name, out.reason, out.suggestions, list(out.unknown))
        if not isinstance(out, Query):
            raise ReportingError(
                f"translator {tr.name!r} returned {type(out).__name__}, expected a Query or NotUnderstood"
            )
        if unknown:  # a translator that reports unused words was not sure: never answer as if understood
            return self._not_understood(
                question, tr.name, f"Could not map '{', '.join(unknown)}' to the catalogue.", [], unknown
            )
        plain = out
        query = self._with_context(out, ctx)
        try:
            compiled = compile_query(query, cat, limit=min(limit, self.settings.row_cap))
        except ValidationError as exc:
            return self._not_understood(
                question, tr.name, f"The {tr.name} translator produced a query that is not allowed: {exc}", []
            )
        result = self._answer(question, tr.name, query, compiled, [], narrative, cat)
        from hotcrm_ai.reporting.metrics_api import query_call

        note = " ".join(f"Read '{w}' as '{c}'." for w, c in corrections.items())
        return attrs.evolve(
            result,
            corrections=corrections,
            message=note,
            query_call=query_call(plain, cat),
            tenant=scope,
        )

    def run_query(
        self,
        query: Query,
        *,
        question: str = "",
        limit: int = 100,
        narrative: bool = True,
        tenant: str | None = None,
        all_tenants: bool = False,
    ) -> ReportResult:
        """Run an AST directly (validated exactly like a translator's), scoped to ``tenant``."""
        scope = self._tenant(tenant, all_tenants)
        cat = self.catalogue_for(scope)
        scoped = self._with_context(query, {"tenant": scope})
        compiled = compile_query(scoped, cat, limit=min(limit, self.settings.row_cap))
        return attrs.evolve(self._answer(question, "", scoped, compiled, [], narrative, cat), tenant=scope)

    def query(
        self,
        metrics: Any,
        *,
        group_by: Any = (),
        time: Any = None,
        filters: Any = (),
        order_by: Any = (),
        limit: int | None = None,
        now: Any = None,
        tenant: str | None = None,
        all_tenants: bool = False,
        narrative: bool = True,
    ) -> ReportResult:
        """The governed metrics API: named metrics by dimensions over a period, compiled exactly like
        a question's query (see ``metrics_api.build_query`` for the argument shapes)."""
        from hotcrm_ai.reporting.metrics_api import build_query, query_call

        scope = self._tenant(tenant, all_tenants)
        cat = self.catalogue_for(scope)
        q = build_query(
            cat,
            metrics=metrics,
            group_by=group_by,
            time=time,
            filters=filters,
            order_by=order_by,
            limit=limit,
            now=_as_date(now),
        )
        res = self.run_query(
            q, limit=limit or self.settings.row_cap, narrative=narrative, tenant=tenant, all_tenants=all_tenants
        )
        return attrs.evolve(res, query_call=query_call(q, cat))

    def describe(self) -> dict[str, Any]:
        """The catalogue's metrics, dimensions and event dates (what ``query`` accepts)."""
        from hotcrm_ai.reporting.metrics_api import describe

        return describe(self.base_catalogue)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._executor = None

    # -- internals ------------------------------------------------------------------------------------
    def _with_context(self, query: Query, ctx: Mapping[str, Any]) -> Query:
        extra: list[Filter] = []
        filters = ctx.get("filters") or {}
        if not isinstance(filters, Mapping):
            raise ValidationError("a mapping of field -> value", subject="context.filters")
        for field, value in filters.items():
            try:
                self.base_catalogue.resolve(query.object, str(field), where=f"context.filters.{field}")
            except ValidationError as exc:
                raise ValidationError(exc.errors, subject="context") from None
            extra.append(Filter(str(field), "eq", value))
        tenant_col = self.base_catalogue.tenant_column
        if tenant_col and ctx.get("tenant") is not None:
            extra.append(Filter(tenant_col, "eq", ctx["tenant"]))
        return attrs.evolve(query, filters=[*query.filters, *extra]) if extra else query

    def _not_understood(
        self, question: str, name: str, reason: str, suggestions: list[str], unknown: list[str] | None = None
    ) -> ReportResult:
        from hotcrm_ai.reporting.rules import examples

        sugg = (suggestions or examples())[:3]
        msg = f"{reason} You can ask, for example: " + "; ".join(f'"{s}"' for s in sugg) + "."
        return ReportResult(
            question=question,
            understood=False,
            message=msg,
            narrative=msg,
            translator=name,
            suggestions=sugg,
            confidence=0,
            unknown=list(unknown or []),
        )

    def _answer(
        self,
        question: str,
        name: str,
        query: Query,
        compiled: Compiled,
        unknown: list[str],
        want_narrative: bool,
        cat: Catalogue,
    ) -> ReportResult:
        ex = self.executor
        res = ex.run(compiled.select, cap=compiled.limit)
        names = [c.name for c in compiled.columns]
        rows = [dict(zip(names, r, strict=True)) for r in res.rows]
        aliases = [a.alias for a in compiled.aggregates]
        if compiled.totals is not None:
            tot = ex.run(compiled.totals, cap=1).rows
            agg_totals = dict(zip(aliases, tot[0], strict=True)) if tot else {}
        elif aliases and rows:
            agg_totals = {a: rows[0][a] for a in aliases}
        else:
            agg_totals = {}
        summary = {
            "total_rows": len(rows),
            "truncated": res.truncated,
            "aggregates": agg_totals,
            "period": nar.period_label(query),
        }
        comparison = None
        if query.comparison is not None and aliases and query.time_range is not None:
            c = query.comparison
            cq = attrs.evolve(
                query, time_range=TimeRange(c.start, c.end, query.time_range.field, c.label), comparison=None
            )
            cc = compile_query(cq, cat, limit=compiled.limit)
            crow = ex.run(cc.select, cap=cc.limit)
            cnames = [col.name for col in cc.columns]
            crows = [dict(zip(cnames, r, strict=True)) for r in crow.rows]
            if cc.totals is not None:
                t = ex.run(cc.totals, cap=1).rows
                ctot = dict(zip(aliases, t[0], strict=True)) if t else {}
            else:
                ctot = {a: crows[0][a] for a in aliases} if crows else {}
            comparison = {
                "type": c.type,
                "start": c.start,
                "end": c.end,
                "label": c.label,
                "rows": crows,
                "aggregates": ctot,
                "current": agg_totals,
                "growth": {a: _growth(agg_totals.get(a), ctot.get(a)) for a in aliases},
            }
        sql_c = compiled.select.compile(dialect=ex.dialect, compile_kwargs={"render_postcompile": True})
        params = {k: _plain(v) for k, v in sql_c.params.items()}
        msg = f"Not used from the question: {', '.join(unknown)}." if unknown else ""
        return ReportResult(
            question=question,
            understood=True,
            message=msg,
            query=query,
            sql=str(sql_c),
            params=params,
            columns=list(compiled.columns),
            rows=rows,
            summary=summary,
            narrative=nar.narrative(question, query, compiled.columns, rows, summary, comparison, compiled.dimensions)
            if want_narrative
            else "",
            visualization=nar.visualization(query, compiled.columns, compiled.dimensions, aliases),
            follow_ups=nar.follow_ups(question, query),
            confidence=nar.confidence(question, query, unknown),
            comparison=comparison,
            translator=name,
        )


__all__ = ["ReportResult", "ReportingEngine"]
