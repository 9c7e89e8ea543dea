"""``cache stats`` and ``cache clear``: the configured cache (memory, or the shared Redis) from the shell.

With Redis, ``stats`` counts the keys under our namespace (SCAN, bounded) and ``clear`` deletes only
those keys; with the in-memory backend both only see this short-lived process, which is said plainly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hotcrm_ai.cli.context import CLIContext, json_option, pass_cli

if TYPE_CHECKING:
    from hotcrm_ai.cache.stats import CacheStats


def stats_text(s: CacheStats) -> str:
    state = "disabled" if not s.enabled else f"DEGRADED (serving from {s.active_backend})" if s.degraded else "ok"
    lines = [
        f"backend:     {s.backend} (active: {s.active_backend}) - {state}",
        f"entries:     {'-' if s.size is None else f'{s.size:,}'}"
        + ("" if s.backend_stats.get("size_exact", True) else " (at least; count stopped early)"),
        f"lookups:     {s.hits + s.misses:,}  hits {s.hits:,}  misses {s.misses:,}  hit rate {s.hit_rate:.1f} %",
        f"writes:      {s.sets:,} stored, {s.skipped:,} skipped",
        f"faults:      {s.errors:,} errors, {s.decode_errors:,} undecodable entries, {s.fallbacks:,} served by memory,"
        f" {s.recoveries:,} recoveries",
        f"evictions:   {s.evictions:,}",
    ]
    if s.last_error:
        age = f" ({s.last_error_age_s:.1f} s ago)" if s.last_error_age_s is not None else ""
        lines.append(f"last error:  {s.last_error}{age}")
    if s.retry_in_s is not None:
        lines.append(f"next probe:  in {s.retry_in_s:.1f} s")
    for name in ("url", "match", "redis_version", "used_memory"):
        if name in s.backend_stats:
            lines.append(f"{name + ':':<12} {s.backend_stats[name]}")
    if s.backend == "memory":
        lines.append("note:        the memory backend lives in this process only; these figures are this run's")
    return "\n".join(lines)


def register(cli: click.Group) -> None:
    @cli.group("cache")
    def cache() -> None:
        """The prediction cache: statistics and clearing."""

    @cache.command("stats")
    @json_option
    @pass_cli
    def stats(c: CLIContext) -> None:
        """Hits, misses, faults, entries and the backend in use (memory while Redis is unreachable)."""
        s = c.cloud().cache.stats()
        c.output(s, lambda: stats_text(s))

    @cache.command("clear")
    @click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
    @click.option("--tenant", help="Only this tenant's cached predictions.")
    @json_option
    @pass_cli
    def clear(c: CLIContext, yes: bool, tenant: str | None) -> None:
        """Delete every cached prediction of our namespace, or one tenant's (other keys in the database are
        left alone)."""
        manager = c.cloud().cache
        what = f"tenant {tenant!r} in the" if tenant else "the"
        if not yes and not c.json_output and not click.confirm(f"Clear {what} {manager.settings.backend} cache?"):
            click.get_current_context().exit(1)
        removed = manager.clear(tenant)
        health = manager.health()
        ok = not health["degraded"]
        result = {"removed": removed, "backend": health["backend"], "complete": ok, "last_error": health["last_error"]}
        c.output(
            result,
            lambda: (
                f"removed {removed:,} entries from the {health['backend']} cache"
                + (
                    ""
                    if ok
                    else f"\nwarning: backend unreachable, only the in-memory fallback was cleared "
                    f"({health['last_error']})"
                )
            ),
        )
        if not ok:
            click.get_current_context().exit(1)
