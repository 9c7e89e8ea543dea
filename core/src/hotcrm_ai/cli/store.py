"""``store upgrade|info|purge``, ``predictions show`` and ``models alias set|delete|list``."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import click

from hotcrm_ai.cli.context import CLIContext, json_option, pass_cli

if TYPE_CHECKING:
    from hotcrm_ai.interfaces import Store


def _open_store(c: CLIContext) -> tuple[Store, Any]:
    """The configured store without building an AICloud (so ``upgrade`` works on an old schema)."""
    from hotcrm_ai.config import load_settings
    from hotcrm_ai.errors import StoreError
    from hotcrm_ai.plugins import PluginHost
    from hotcrm_ai.store.assemble import build_store

    settings = load_settings(c.config)
    store = build_store(PluginHost().stores, settings.store)
    if store is None:
        raise StoreError('[store] url is "memory": there is no store to manage')
    return store, settings


@click.group("store")
def store_group() -> None:
    """The shared store: registry, prediction log and monitor events."""


@store_group.command("upgrade")
@json_option
@pass_cli
def store_upgrade(c: CLIContext) -> None:
    """Apply schema migrations (a store made by a newer hotcrm-ai is refused)."""
    store, _ = _open_store(c)
    try:
        before = store.info()["schema_version"]
        version = store.upgrade()
    finally:
        store.close()
    data = {"url": store.url, "from": before, "to": version}
    c.output(
        data,
        f"{store.url}: schema {before or 'none'} -> {version}"
        if before != version
        else f"{store.url}: schema {version} is current",
    )


@store_group.command("info")
@json_option
@pass_cli
def store_info(c: CLIContext) -> None:
    """The store's URL (password hidden), schema version and row counts."""
    store, _ = _open_store(c)
    try:
        info = store.info()
    finally:
        store.close()

    def text() -> str:
        lines = [
            f"url:     {info['url']}",
            f"schema:  {info['schema_version'] or 'none'} (newest {info['newest_schema']})",
        ]
        if not info["rows"] and info["schema_version"] != info["newest_schema"]:
            lines.append("rows:    (run `hotcrm-ai store upgrade`)")
        for name, count in info["rows"].items():
            lines.append(f"{name + ':':<16} {count:,}")
        return "\n".join(lines)

    c.output(info, text)


@store_group.command("purge")
@click.option("--older-than-days", type=float, help="Age limit in days (default: [store] retention_days).")
@json_option
@pass_cli
def store_purge(c: CLIContext, older_than_days: float | None) -> None:
    """Delete events, outcomes and logged predictions older than the retention period."""
    from hotcrm_ai.errors import ValidationError

    store, settings = _open_store(c)
    days = older_than_days if older_than_days is not None else settings.store.retention_days
    if days is None or days <= 0:
        raise ValidationError("a number of days > 0 (or [store] retention_days)", subject="--older-than-days")
    try:
        store.open()
        gone = store.purge(time.time() - days * 86_400)
    finally:
        store.close()
    c.output(gone, ", ".join(f"{name}: {n:,} deleted" for name, n in gone.items()))


@click.group("predictions")
def predictions_group() -> None:
    """The prediction log."""


@predictions_group.command("show")
@click.argument("prediction_id")
@json_option
@pass_cli
def predictions_show(c: CLIContext, prediction_id: str) -> None:
    """Which model version, configuration and variant served a prediction."""
    from datetime import UTC, datetime

    found = c.cloud().predictions.get(prediction_id)

    def text() -> str:
        when = datetime.fromtimestamp(found.timestamp, UTC)
        rows = [
            ("id", found.prediction_id),
            ("time", f"{when:%Y-%m-%d %H:%M:%S.%f} UTC"),
            ("tenant", found.tenant or "-"),
            ("requested", found.requested_model_id),
            ("served", f"{found.model_id}@{found.model_version}"),
            ("variant", found.variant or "-"),
            ("config", found.config_digest or "-"),
            ("served by", "cache" if found.cached else "provider"),
            ("degraded", found.degraded_reason if found.degraded else "no"),
            ("latency", f"{found.latency_ms:.2f} ms"),
            ("confidence", f"{found.confidence:.1f}"),
            ("output", json.dumps(found.output, ensure_ascii=False)),
        ]
        if found.features is not None:
            rows.append(("features", json.dumps(found.features, ensure_ascii=False)))
        return "\n".join(f"{k + ':':<12} {v}" for k, v in rows)

    c.output(found, text)


@predictions_group.command("outcome")
@click.argument("prediction_id")
@click.argument("actual")
@click.option("--model", "model_id", help="Score by this model's type (labels vs values).")
@json_option
@pass_cli
def predictions_outcome(c: CLIContext, prediction_id: str, actual: str, model_id: str | None) -> None:
    """Report the true outcome of a prediction (made by any process): feeds accuracy or MAE.
    ACTUAL is JSON (a number, "text", an object), else taken as text."""
    try:
        value = json.loads(actual)
    except json.JSONDecodeError:
        value = actual
    outcome = c.cloud().record_outcome(prediction_id, value, model_id=model_id)
    scored = f"correct: {outcome.correct}" if outcome.correct is not None else f"abs error: {outcome.abs_error}"
    c.output(outcome, f"{prediction_id}: predicted {outcome.prediction!r}, actual {outcome.actual!r}, {scored}")


@click.group("alias")
def alias_group() -> None:
    """Aliases (champion, challenger, ...): use ``<model-id>@<alias>`` wherever a model id goes."""


@alias_group.command("set")
@click.argument("model_id")
@click.argument("alias")
@click.argument("version")
@json_option
@pass_cli
def alias_set(c: CLIContext, model_id: str, alias: str, version: str) -> None:
    """Point ALIAS of MODEL_ID at VERSION."""
    c.cloud().registry.set_alias(model_id, alias, version)
    c.output({"model_id": model_id, "alias": alias, "version": version}, f"{model_id}@{alias} -> {version}")


@alias_group.command("delete")
@click.argument("model_id")
@click.argument("alias")
@json_option
@pass_cli
def alias_delete(c: CLIContext, model_id: str, alias: str) -> None:
    """Remove ALIAS of MODEL_ID."""
    c.cloud().registry.delete_alias(model_id, alias)
    c.output({"model_id": model_id, "alias": alias, "deleted": True}, f"{model_id}@{alias} deleted")


@alias_group.command("list")
@click.argument("model_id", required=False)
@json_option
@pass_cli
def alias_list(c: CLIContext, model_id: str | None) -> None:
    """Every alias (of one model, or of all)."""
    found = c.cloud().registry.aliases(model_id)

    def text() -> str:
        rows = [f"{m}@{a:<20} {v}" for m, names in found.items() for a, v in sorted(names.items())]
        return "\n".join(rows) or "No aliases."

    c.output(found, text)


def register(cli: click.Group) -> None:
    cli.add_command(store_group)
    cli.add_command(predictions_group)
    models = cli.commands.get("models")
    if isinstance(models, click.Group):
        models.add_command(alias_group)
