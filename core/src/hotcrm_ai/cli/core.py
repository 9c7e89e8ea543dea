"""``plugins``, ``models ...`` and ``config show``: what is installed and registered."""

from __future__ import annotations

from datetime import UTC

import click

from hotcrm_ai.cli.context import CLIContext, json_option, pass_cli


def _plugins_text(records: list) -> str:
    lines = []
    for r in records:
        head = f"{r.name}  [{r.distribution or r.source} {r.version or ''}]".rstrip()
        lines.append(head + ("" if not r.errors else "  ERRORS"))
        for kind, names in r.registered.items():
            lines.append(f"    {kind}: {', '.join(names)}")
        for err in r.errors:
            lines.append(f"    error: {err}")
    return "\n".join(lines)


def _no_match(everything: list, **filters: str | None) -> str:
    """Say why a filtered list is empty; a filter value no model has is a user error naming the choices."""
    from hotcrm_ai.errors import ValidationError
    from hotcrm_ai.types import MODEL_STATUSES, MODEL_TYPES

    given = {k.rstrip("_"): v for k, v in filters.items() if v is not None}
    if not given:
        return "No models are registered."
    for key, value in given.items():
        if key == "tag":
            known = sorted({t for m in everything for t in m.tags})
        elif key == "type":
            known = sorted(MODEL_TYPES)
        elif key == "status":
            known = sorted(MODEL_STATUSES)
        else:
            known = sorted({getattr(m, key) for m in everything})
        if value not in known:
            choices = ", ".join(known) or "(none registered)"
            raise ValidationError(f"one of {choices}, got {value!r}", subject=f"--{key}")
    return "No models match " + " ".join(f"--{k} {v}" for k, v in given.items()) + " together."


def register(cli: click.Group) -> None:
    @cli.command("plugins")
    @json_option
    @pass_cli
    def plugins(c: CLIContext) -> None:
        """Installed plugins: distribution, version, what each registered, load errors."""
        from hotcrm_ai.plugins import PluginHost

        records = PluginHost().describe()
        c.output(records, lambda: _plugins_text(records))

    @cli.group("models")
    def models() -> None:
        """Registered models."""

    @models.command("list")
    @click.option("--type", "type_", help="Only this model type.")
    @click.option("--status", help="Only this status.")
    @click.option("--provider", help="Only this provider.")
    @click.option("--tag", help="Only models with this tag.")
    @json_option
    @pass_cli
    def models_list(
        c: CLIContext, type_: str | None, status: str | None, provider: str | None, tag: str | None
    ) -> None:
        """List models (newest version of each)."""
        registry = c.cloud().registry
        items = registry.list(type=type_, status=status, provider=provider, tag=tag)

        def text() -> str:
            if not items:
                return _no_match(registry.list(), type_=type_, status=status, provider=provider, tag=tag)
            rows = [f"{m.id:<30} {m.version:<8} {m.type:<15} {m.provider:<14} {m.status}" for m in items]
            return "\n".join([f"{'ID':<30} {'VERSION':<8} {'TYPE':<15} {'PROVIDER':<14} STATUS", *rows])

        c.output(items, text)

    @models.command("show")
    @click.argument("model_id")
    @click.option("--version", help="A given version (default: newest active).")
    @click.option("--full", is_flag=True, help="Every field of the configuration, as JSON.")
    @json_option
    @pass_cli
    def models_show(c: CLIContext, model_id: str, version: str | None, full: bool) -> None:
        """Show one model: features, metrics and outputs (secrets redacted)."""
        from hotcrm_ai.cli.model_summary import summary

        model = c.cloud().registry.get(model_id, version)
        c.output(model, None if full else lambda: summary(model))

    @models.command("history")
    @click.argument("model_id", required=False)
    @json_option
    @pass_cli
    def models_history(c: CLIContext, model_id: str | None) -> None:
        """The append-only history of registry changes."""
        from datetime import datetime

        entries = c.cloud().registry.history(model_id)

        def text() -> str:
            return "\n".join(
                f"{datetime.fromtimestamp(h.timestamp, UTC):%Y-%m-%d %H:%M:%S}  {h.action:<12} "
                f"{h.model_id}@{h.version}  by {h.actor}" + (f"  {h.detail}" if h.detail else "")
                for h in entries
            )

        c.output(entries, text)

    @models.command("status")
    @click.argument("model_id")
    @click.argument("status", type=click.Choice(["active", "deprecated", "training", "testing"]))
    @click.option("--version", help="A given version (default: newest active).")
    @json_option
    @pass_cli
    def models_status(c: CLIContext, model_id: str, status: str, version: str | None) -> None:
        """Change a model's status (kept in the store; with [store] url = "memory", in [registry] path)."""
        model = c.cloud().registry.set_status(model_id, status, version=version, actor="cli")
        c.output(model, f"{model.id}@{model.version}: {model.status}")

    @cli.group("config")
    def config() -> None:
        """Configuration."""

    @config.command("show")
    @json_option
    @pass_cli
    def config_show(c: CLIContext) -> None:
        """The effective configuration, secrets redacted."""
        import json

        from hotcrm_ai.config import load_settings
        from hotcrm_ai.converter import unstructure

        settings = load_settings(c.config)
        c.output(settings, lambda: json.dumps(unstructure(settings), indent=2, ensure_ascii=False))
