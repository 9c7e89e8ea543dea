"""``score``: a whole Parquet, CSV or JSON-lines file through a model, on an engine (``local``, ``dask``)."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from hotcrm_ai.cli.context import CLIContext, json_option, pass_cli


class _Progress:
    """``scoring: 1,234,567/5,000,000 rows (24%)  812,345 rows/s`` on stderr, only when it is a terminal."""

    def __init__(self, total: int | None) -> None:
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.live = sys.stderr.isatty()

    def __call__(self, rows: int) -> None:
        self.done += rows
        if not self.live:
            return
        rate = self.done / max(time.perf_counter() - self.start, 1e-9)
        of = f"/{self.total:,} rows ({100 * self.done / self.total:.0f}%)" if self.total else " rows"
        click.echo(f"\rscoring: {self.done:,}{of}  {rate:,.0f} rows/s", err=True, nl=False)

    def finish(self) -> None:
        if self.live:
            click.echo("", err=True)


@click.command("score")
@click.argument("model_id")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(exists=True),
    help="Parquet file or dataset folder, CSV, or JSON lines (by extension).",
)
@click.option(
    "--output",
    "output_path",
    required=True,
    type=click.Path(),
    help="Where the scored rows go; written atomically (an existing file is replaced only on success).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["parquet", "csv", "jsonl"]),
    help="Output format (default: from the output's extension).",
)
@click.option("--engine", default="local", show_default=True, help="Scoring engine: local, dask, ...")
@click.option("--scheduler", help="Cluster scheduler address (dask engine), e.g. tcp://127.0.0.1:8786.")
@click.option(
    "--chunk-rows",
    default=65_536,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="Rows per chunk: peak memory follows it.",
)
@click.option("--tenant", help="Tenant recorded with the monitor records.")
@click.option("--keep", multiple=True, help="Input column copied to the output unchanged (e.g. an id); repeatable.")
@json_option
@pass_cli
def score(
    c: CLIContext,
    model_id: str,
    input_path: str,
    output_path: str,
    output_format: str | None,
    engine: str,
    scheduler: str | None,
    chunk_rows: int,
    tenant: str | None,
    keep: tuple[str, ...],
) -> None:
    """Score every row of a table; each row's error (if any) stays in its ``error`` column."""
    from hotcrm_ai.errors import ConfigError
    from hotcrm_ai.scoring.engine import ScoreJob
    from hotcrm_ai.scoring.io import count_rows, format_of

    cloud = c.cloud()
    cloud.service._active(model_id)  # an unknown model fails here: nothing read, nothing written
    spec = cloud.plugins.engines.get(engine)
    if spec is None:
        installed = ", ".join(sorted(cloud.plugins.engines)) or "none"
        raise ConfigError(f"--engine: no engine named {engine!r} is installed (installed: {installed})")
    options: dict[str, Any] = {"scheduler": scheduler} if scheduler else {}
    runner = spec.factory(options)
    in_fmt = format_of(input_path, None, "--input")
    job = ScoreJob(
        model_id=model_id,
        input=input_path,
        output=output_path,
        input_format=in_fmt,
        output_format=format_of(output_path, output_format, "--output"),
        chunk_rows=chunk_rows,
        context={"tenant": tenant} if tenant else {},
        keep=keep,
        config_path=cloud.settings.source,
    )
    progress = _Progress(count_rows(input_path, in_fmt))
    try:
        summary = runner.run(cloud, job, progress)
    finally:
        progress.finish()
    data = summary.as_dict()
    c.output(data, lambda: "  ".join(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}" for k, v in data.items()))


def register(cli: click.Group) -> None:
    cli.add_command(score)
