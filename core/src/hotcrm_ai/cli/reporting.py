"""``hotcrm-ai ask`` (a question answered from the CRM database) and ``hotcrm-ai demo-data``."""

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
    @json_option
    @pass_cli
    def ask(
        cli_ctx: CLIContext, question: str, db: str | None, now: str | None, limit: int, translator: str | None
    ) -> None:
        """Answer a natural-language analytics QUESTION, read-only: table, narrative and the SQL run."""
        import attrs

        from hotcrm_ai.reporting.engine import ReportingEngine

        cloud = cli_ctx.cloud()
        settings = cloud.settings.reporting
        if db or translator:
            settings = attrs.evolve(
                settings, database_url=db or settings.database_url, translator=translator or settings.translator
            )
            engine = ReportingEngine(settings, cloud.plugins.translators, models=cloud.structured)
            try:
                result = engine.ask(question, now=now, limit=limit)
            finally:
                engine.close()
        else:
            result = cloud.reporting.ask(question, now=now, limit=limit)

        def human() -> str:
            if not result.understood:
                return result.message
            parts = [_table(result.columns, result.rows), "", result.narrative]
            if result.message:
                parts.append(result.message)
            parts += [
                "",
                f"SQL ({result.translator}, confidence {result.confidence}):",
                result.sql,
                f"params: {result.params}",
            ]
            return "\n".join(parts)

        cli_ctx.output(result, human)
        if not result.understood:
            raise click.exceptions.Exit(3)

    @cli.command("demo-data")
    @click.option("--db", "db", default=None, help="SQLAlchemy URL to fill (default: the embedded demo SQLite file).")
    @click.option("--replace", is_flag=True, help="Drop and recreate the demo tables if they exist.")
    @click.option("--seed", default=None, type=int, help="Random seed (default: the documented demo seed).")
    @json_option
    @pass_cli
    def demo_data(cli_ctx: CLIContext, db: str | None, replace: bool, seed: int | None) -> None:
        """Create the synthetic demo CRM database (deterministic; 2024-01-01 to 2026-12-31)."""
        from hotcrm_ai.reporting import demo_data as dd

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
            counts = dd.create_demo_database(f"sqlite:///{tmp}", seed=dd.SEED if seed is None else seed)
            tmp.replace(path)
            url = f"sqlite:///{path}"
        else:
            url = db
            counts = dd.create_demo_database(db, seed=dd.SEED if seed is None else seed, replace=replace)
        shown = url.split("@")[-1] if "@" in url else url  # never print credentials
        cli_ctx.output(
            {"database": shown, "created": True, "rows": counts},
            lambda: f"Created demo database {shown}: " + ", ".join(f"{t} {n}" for t, n in counts.items()),
        )
