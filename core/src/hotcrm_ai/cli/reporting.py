"""``hotcrm-ai ask`` (a question answered from the CRM database), ``query`` and ``metrics`` (the governed
metrics API) and ``demo-data``."""

from __future__ import annotations

from typing import Any

import click

from hotcrm_ai.cli.context import CLIContext, json_option, pass_cli


def _table(columns: list[Any], rows: list[dict[str, Any]], max_rows: int = 50) -> str:
    from hotcrm_ai.reporting.narrative import fmt

    head = [c.label for c in columns]
    body = [
        [
            fmt(r.get(c.name), c.type)
            if c.type in ("currency", "percent", "number")
            else ("" if r.get(c.name) is None else str(r.get(c.name)))
            for c in columns
        ]
        for r in rows[:max_rows]
    ]
    widths = [max([len(h)] + [len(b[i]) for b in body]) for i, h in enumerate(head)]
    numeric = [c.type in ("currency", "percent", "number") for c in columns]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(w) if num else cell.ljust(w) for cell, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    out = [line(head), line(["-" * w for w in widths])] + [line(b) for b in body]
    if len(rows) > max_rows:
        out.append(f"... {len(rows) - max_rows} more rows (use --json for all)")
    return "\n".join(out)


def _engine(cli_ctx: CLIContext, db: str | None, translator: str | None = None) -> Any:
    """The configured engine, or one on ``--db`` / ``--translator`` (closed by the caller)."""
    import attrs

    from hotcrm_ai.reporting.engine import ReportingEngine

    cloud = cli_ctx.cloud()
    settings = cloud.settings.reporting
    if not (db or translator):
        return cloud.reporting, False
    settings = attrs.evolve(
        settings, database_url=db or settings.database_url, translator=translator or settings.translator
    )
    return ReportingEngine(settings, cloud.plugins.translators, models=cloud.structured), True


def _pinned(result: Any) -> str:
    """The ``hotcrm-ai query`` / ``ai.query`` call that gives this answer again."""
    import json

    if result.query_call is None:
        return ""
    args = ", ".join(f"{k}={json.dumps(v)}" for k, v in result.query_call.items())
    return f"Same answer as a metrics query: ai.query({args})"


def _human(result: Any) -> str:
    if not result.understood:
        return result.message
    parts = [_table(result.columns, result.rows), "", result.narrative]
    if result.message:
        parts.append(result.message)
    if result.comparison and result.comparison.get("growth"):
        growth = ", ".join(
            f"{k} {v:+.1%}" for k, v in result.comparison["growth"].items() if isinstance(v, (int, float))
        )
        if growth:
            parts.append(f"Change vs {result.comparison['label']}: {growth}")
    parts += ["", f"SQL ({result.translator or 'query'}, confidence {result.confidence}):", result.sql]
    parts.append(f"params: {result.params}")
    pinned = _pinned(result)
    if pinned:
        parts.append(pinned)
    return "\n".join(parts)


_TENANT = click.option(
    "--tenant", "tenant", default=None, help="Answer from this tenant's rows only (needed when tenants are configured)."
)
_ALL_TENANTS = click.option(
    "--all-tenants", "all_tenants", is_flag=True, help="Answer across every tenant's rows (an explicit choice)."
)


def register(cli: click.Group) -> None:
    @cli.command("ask")
    @click.argument("question")
    @click.option(
        "--db", "db", default=None, help="SQLAlchemy URL of the CRM database (default: the embedded demo SQLite file)."
    )
    @click.option("--now", "now", default=None, help="Today's date for relative periods (YYYY-MM-DD).")
    @click.option(
        "--limit", "limit", default=100, show_default=True, type=click.IntRange(1, 1_000_000), help="Maximum rows."
    )
    @click.option("--translator", "translator", default=None, help="Translator name (default: [reporting] translator).")
    @_TENANT
    @_ALL_TENANTS
    @json_option
    @pass_cli
    def ask(
        cli_ctx: CLIContext,
        question: str,
        db: str | None,
        now: str | None,
        limit: int,
        translator: str | None,
        tenant: str | None,
        all_tenants: bool,
    ) -> None:
        """Answer a natural-language analytics QUESTION, read-only: table, narrative and the SQL run.
        A question with a word that maps to nothing is not answered (exit code 3) and the words are named."""
        engine, own = _engine(cli_ctx, db, translator)
        try:
            result = engine.ask(question, now=now, limit=limit, tenant=tenant, all_tenants=all_tenants)
        finally:
            if own:
                engine.close()
        cli_ctx.output(result, lambda: _human(result))
        if not result.understood:
            raise click.exceptions.Exit(3)

    @cli.command("query")
    @click.option(
        "--metric", "metrics", multiple=True, required=True, help="A metric name (repeatable); see `metrics`."
    )
    @click.option("--by", "by", multiple=True, help="A dimension to group by (repeatable), e.g. region, owner, stage.")
    @click.option(
        "--period", "period", default=None, help='The period: "last quarter", "2025", "Q3 2025", "last 30 days".'
    )
    @click.option(
        "--grain",
        "grain",
        default=None,
        type=click.Choice(["day", "week", "month", "quarter", "year"]),
        help="Cut the period into days, weeks, months, quarters or years.",
    )
    @click.option(
        "--date-field", "date_field", default=None, help="The date the period applies to (default: the metric's)."
    )
    @click.option(
        "--compare",
        "compare",
        default=None,
        help='Compare with "previous_period", "year_over_year" or another period ("Q3 2025").',
    )
    @click.option("--where", "where", multiple=True, help="A filter FIELD=VALUE (repeatable), e.g. region=EMEA.")
    @click.option(
        "--order", "order", multiple=True, help="Sort by a column; a leading '-' sorts descending (-revenue)."
    )
    @click.option("--limit", "limit", default=None, type=click.IntRange(1, 1_000_000), help="Maximum rows.")
    @click.option(
        "--db", "db", default=None, help="SQLAlchemy URL of the CRM database (default: the demo SQLite file)."
    )
    @click.option("--now", "now", default=None, help="Today's date for relative periods (YYYY-MM-DD).")
    @_TENANT
    @_ALL_TENANTS
    @json_option
    @pass_cli
    def query(
        cli_ctx: CLIContext,
        metrics: tuple[str, ...],
        by: tuple[str, ...],
        period: str | None,
        grain: str | None,
        date_field: str | None,
        compare: str | None,
        where: tuple[str, ...],
        order: tuple[str, ...],
        limit: int | None,
        db: str | None,
        now: str | None,
        tenant: str | None,
        all_tenants: bool,
    ) -> None:
        """Run a governed metrics query: named METRICs by dimensions over a period (no question to parse)."""
        from hotcrm_ai.errors import ValidationError

        filters = []
        for w in where:
            field, sep, value = w.partition("=")
            if not sep or not field.strip():
                raise ValidationError(f"FIELD=VALUE, got {w!r:.60}", subject="--where")
            filters.append({"field": field.strip(), "op": "eq", "value": value.strip()})
        time: dict[str, Any] = {}
        for key, val in (("range", period), ("grain", grain), ("field", date_field), ("compare", compare)):
            if val is not None:
                time[key] = val
        engine, own = _engine(cli_ctx, db)
        try:
            result = engine.query(
                list(metrics),
                group_by=list(by),
                time=time or None,
                filters=filters,
                order_by=list(order),
                limit=limit,
                now=now,
                tenant=tenant,
                all_tenants=all_tenants,
            )
        finally:
            if own:
                engine.close()
        cli_ctx.output(result, lambda: _human(result))

    @cli.command("metrics")
    @json_option
    @pass_cli
    def metrics_cmd(cli_ctx: CLIContext) -> None:
        """List the catalogue's metrics, dimensions, date fields and event dates (what `query` accepts)."""
        from hotcrm_ai.reporting.catalogue import Catalogue
        from hotcrm_ai.reporting.metrics_api import describe

        info = describe(Catalogue.load(cli_ctx.cloud().settings.reporting.catalogue))

        def human() -> str:
            lines = ["Metrics:"]
            for name, m in info["metrics"].items():
                lines.append(f"  {name:<22} {m['label']} ({m['object']}, dated by {m['date_field']})")
            lines.append("Dimensions:")
            for obj, dims in info["dimensions"].items():
                if dims:
                    lines.append(f"  {obj:<22} {', '.join(dims)}")
            lines.append("Event dates (a verb next to a period picks the date):")
            for obj, rules in info["event_dates"].items():
                for r in rules:
                    lines.append(f"  {obj:<22} {r['verbs']} -> {r['field']}")
            return "\n".join(lines)

        cli_ctx.output(info, human)

    @cli.command("demo-data")
    @click.option("--db", "db", default=None, help="SQLAlchemy URL to fill (default: the embedded demo SQLite file).")
    @click.option("--replace", is_flag=True, help="Drop and recreate the demo tables if they exist.")
    @click.option("--seed", default=None, type=int, help="Random seed (default: the documented demo seed).")
    @click.option(
        "--now", "now", default=None, help="The last day of the generated history, YYYY-MM-DD (default: today)."
    )
    @json_option
    @pass_cli
    def demo_data(cli_ctx: CLIContext, db: str | None, replace: bool, seed: int | None, now: str | None) -> None:
        """Create the synthetic demo CRM database: about three years of history up to --now (default today)."""
        from datetime import date

        from hotcrm_ai.errors import ValidationError
        from hotcrm_ai.reporting import demo_data as dd

        try:
            until = date.fromisoformat(now) if now else None
        except ValueError:
            raise ValidationError(f"a date YYYY-MM-DD, got {now!r:.40}", subject="--now") from None

        if db is None:
            path = dd.default_demo_path()
            if path.exists() and not replace:
                cli_ctx.output(
                    {"database": f"sqlite:///{path}", "created": False},
                    f"Demo database already exists: {path} (use --replace to rebuild)",
                )
                return
            path.unlink(missing_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.unlink(missing_ok=True)
            counts = dd.create_demo_database(f"sqlite:///{tmp}", seed=dd.SEED if seed is None else seed, now=until)
            tmp.replace(path)
            url = f"sqlite:///{path}"
        else:
            url = db
            counts = dd.create_demo_database(db, seed=dd.SEED if seed is None else seed, replace=replace, now=until)
        shown = url.split("@")[-1] if "@" in url else url  # never print credentials
        cli_ctx.output(
            {"database": shown, "created": True, "rows": counts},
            lambda: f"Created demo database {shown}: " + ", ".join(f"{t} {n}" for t, n in counts.items()),
        )
