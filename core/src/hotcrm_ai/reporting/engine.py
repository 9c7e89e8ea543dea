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
from hotcrm_ai.reporting.ast import Filter, NotUnderstood, Query, TimeRange, Translated
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


NOW_MIN, NOW_MAX = date(1000, 1, 1), date(9000, 12, 31)


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
        self._catalogue: Catalogue | None = None
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
        """The catalogue plus the categorical values present in the data (loaded once, read-only)."""
        if self._catalogue is None:
            ex = self.executor
            values: dict[str, tuple[str, ...]] = {}
            for obj, field in self.base_catalogue.categorical_fields():
                values[f"{obj}.{field}"] = ex.distinct_values(self.base_catalogue.objects[obj]["table"], field)
            self._catalogue = self.base_catalogue.with_values(values)
        return self._catalogue

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
        """``factory(options)``, plus ``models=`` for a factory that declares it (see QueryTranslatorSpec)."""
        import inspect

        options = dict(self.settings.options)
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
    ) -> ReportResult:
        if not isinstance(question, str):
            raise ValidationError(f"a string, got {type(question).__name__}", subject="question")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError(f"a positive integer, got {limit!r:.40}", subject="limit")
        if context is not None and not isinstance(context, Mapping):
            raise ValidationError(f"a mapping, got {type(context).__name__}", subject="context")
        today = _as_date(now)
        ctx = dict(context or {})
        cat = self.catalogue
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
        if isinstance(out, Translated):
            unknown, out = list(out.unknown), out.query
        if isinstance(out, NotUnderstood):
            return self._not_understood(question, tr.name, out.reason, out.suggestions)
        if not isinstance(out, Query):
            raise ReportingError(
                f"translator {tr.name!r} returned {type(out).__name__}, expected a Query or NotUnderstood"
            )
        query = self._with_context(out, ctx)
        try:
            compiled = compile_query(query, cat, limit=min(limit, self.settings.row_cap))
        except ValidationError as exc:
            return self._not_understood(
                question, tr.name, f"The {tr.name} translator produced a query that is not allowed: {exc}", []
            )
        return self._answer(question, tr.name, query, compiled, unknown, narrative)

    def run_query(self, query: Query, *, question: str = "", limit: int = 100, narrative: bool = True) -> ReportResult:
        """Run an AST directly (validated exactly like a translator's)."""
        compiled = compile_query(query, self.catalogue, limit=min(limit, self.settings.row_cap))
        return self._answer(question, "", query, compiled, [], narrative)

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
                self.catalogue.resolve(query.object, str(field), where=f"context.filters.{field}")
            except ValidationError as exc:
                raise ValidationError(exc.errors, subject="context") from None
            extra.append(Filter(str(field), "eq", value))
        tenant_col = self.catalogue.tenant_column
        if tenant_col and ctx.get("tenant") is not None:
            extra.append(Filter(tenant_col, "eq", ctx["tenant"]))
        return attrs.evolve(query, filters=[*query.filters, *extra]) if extra else query

    def _not_understood(self, question: str, name: str, reason: str, suggestions: list[str]) -> ReportResult:
        from hotcrm_ai.reporting.rules import examples

        sugg = suggestions or examples()
        msg = f"{reason} You can ask, for example: " + "; ".join(f'"{s}"' for s in sugg[:4]) + "."
        return ReportResult(
            question=question,
            understood=False,
            message=msg,
            narrative=msg,
            translator=name,
            suggestions=sugg,
            confidence=0,
        )

    def _answer(
        self, question: str, name: str, query: Query, compiled: Compiled, unknown: list[str], want_narrative: bool
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
            cc = compile_query(cq, self.catalogue, limit=compiled.limit)
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
