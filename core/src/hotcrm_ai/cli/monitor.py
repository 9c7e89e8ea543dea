"""``stats`` and ``health``: the performance monitor from the command line.

With a store (the default) these show every process that writes to it; with ``[store] url =
"memory"`` only what this process recorded. ``--json`` prints the ``ModelStats`` / ``HealthStatus``
objects through the converter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from hotcrm_ai.cli.context import CLIContext, json_option, pass_cli
from hotcrm_ai.errors import ModelNotFoundError

if TYPE_CHECKING:
    from hotcrm_ai.monitor import HealthStatus, ModelStats

_COLUMNS = (
    "model",
    "variant",
    "total",
    "fail",
    "err %",
    "cache %",
    "mean ms",
    "p50",
    "p95",
    "p99",
    "conf",
    "acc %",
    "mae",
)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def stats_rows(stats: Sequence[ModelStats]) -> list[tuple[str, ...]]:
    return [
        (
            s.model_id,
            s.variant or "all",
            f"{s.total:,}",
            f"{s.failures:,}",
            _fmt(s.error_rate),
            _fmt(s.cache_hit_rate),
            _fmt(s.latency_mean_ms),
            _fmt(s.latency_p50_ms),
            _fmt(s.latency_p95_ms),
            _fmt(s.latency_p99_ms),
            _fmt(s.mean_confidence),
            _fmt(s.accuracy),
            _fmt(s.mae, 3),
        )
        for s in stats
    ]


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 2) -> str:
    """Aligned columns: the first ``left`` to the left (names), the rest to the right (numbers)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        parts = (c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "  ".join(parts).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def stats_text(stats: Mapping[str, ModelStats], window_s: float | None) -> str:
    where = f" in the last {window_s:g} s" if window_s else ""
    if not stats:
        return f"No predictions recorded{where}."
    text = table(_COLUMNS, stats_rows(list(stats.values())))
    usage = [
        f"{mid}: " + ", ".join(f"{k}={v:,.6g}" for k, v in sorted(s.usage.items()))
        for mid, s in stats.items()
        if s.usage
    ]
    dropped = [f"{mid}: {s.dropped:,}" for mid, s in stats.items() if s.dropped]
    text += "\n\nevents dropped by the store writer (queue full):\n  " + "\n  ".join(dropped) if dropped else ""
    return text + ("\n\nusage:\n  " + "\n  ".join(usage) if usage else "")


def health_text(statuses: Sequence[HealthStatus]) -> str:
    if not statuses:
        return "No models."
    rows = [(h.model_id, h.status, h.reason or "") for h in statuses]
    dropped = [f"{h.model_id}: {h.dropped:,}" for h in statuses if h.dropped]
    note = "\n\nevents dropped by the store writer (queue full):\n  " + "\n  ".join(dropped) if dropped else ""
    return table(("model", "status", "reason"), rows, left=3) + note


def register(cli: click.Group) -> None:
    @cli.command("stats")
    @click.argument("model_id", required=False, metavar="[MODEL]")
    @click.option(
        "--window",
        "window_s",
        type=click.FloatRange(min=0, min_open=True),
        help="Only predictions of the last SECONDS (default: every retained event).",
        metavar="SECONDS",
    )
    @click.option("--variant", help="Only this A/B variant (with MODEL).")
    @json_option
    @pass_cli
    def stats(c: CLIContext, model_id: str | None, window_s: float | None, variant: str | None) -> None:
        """Prediction statistics per model: counts, error and cache-hit rates, latency percentiles."""
        monitor = c.cloud().monitor
        if model_id is None:
            if variant is not None:
                raise click.UsageError("--variant needs a MODEL")
            all_stats = monitor.all_stats(window_s=window_s)
            c.output(all_stats, lambda: stats_text(all_stats, window_s))
            return
        if model_id not in c.cloud().registry and model_id not in monitor.model_ids():
            raise ModelNotFoundError(model_id)  # same answer as ``health`` for a typo
        one = monitor.stats(model_id, window_s=window_s, variant=variant)
        found: dict[str, Any] = {model_id: one} if one is not None else {}
        c.output(
            one,
            lambda: (
                stats_text(found, window_s)
                if found
                else f"No predictions recorded for {model_id}" + (f" in the last {window_s:g} s." if window_s else ".")
            ),
        )

    @cli.command("health")
    @click.argument("model_id", required=False, metavar="[MODEL]")
    @click.option("--strict", is_flag=True, help="Exit with status 1 unless every model shown is healthy.")
    @json_option
    @pass_cli
    def health(c: CLIContext, model_id: str | None, strict: bool) -> None:
        """Health per model over the last window: degraded above 5 % errors or p95 over 500 ms, unhealthy above 10 %."""
        cloud = c.cloud()
        monitor = cloud.monitor
        if model_id is not None:
            if model_id not in cloud.registry and model_id not in monitor.model_ids():
                raise ModelNotFoundError(model_id)  # a typo must not read as "healthy"
            statuses = [monitor.health(model_id)]
            c.output(statuses[0], lambda: health_text(statuses))
        else:
            ids = list(dict.fromkeys([m.id for m in cloud.registry.list()] + monitor.model_ids()))
            statuses = [monitor.health(i) for i in ids]
            c.output({h.model_id: h for h in statuses}, lambda: health_text(statuses))
        if strict and any(h.status != "healthy" for h in statuses):
            click.get_current_context().exit(1)
