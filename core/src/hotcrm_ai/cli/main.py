"""Root group of ``hotcrm-ai``: global options, user errors as one clear line, command modules.

Only click is imported to show ``--help``; AICloud (and numpy, and plugins' SDKs) load when a command
needs them.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from hotcrm_ai.cli.context import CLIContext

COMMAND_MODULES = (
    "hotcrm_ai.cli.core",
    "hotcrm_ai.cli.store",
    "hotcrm_ai.cli.predict",
    "hotcrm_ai.cli.monitor",
    "hotcrm_ai.cli.cache",
    "hotcrm_ai.cli.explain",
    "hotcrm_ai.cli.reporting",
    "hotcrm_ai.cli.demo",
    "hotcrm_ai.cli.score",
)


EXIT_CODES = """\b
Exit codes:
  0  success
  1  internal error or a failing remote service (rerun with --debug for the traceback)
  2  user error: bad input, unknown model, explainer, file, option or configuration
  3  a question that was not understood (ask)"""


class _Root(click.Group):
    """Turns every error into one line and an exit code by one rule (see ``EXIT_CODES``)."""

    def invoke(self, ctx: click.Context) -> Any:
        from hotcrm_ai.errors import HotCRMAIError

        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except HotCRMAIError as exc:
            if _debug(ctx):
                raise
            hint = "" if exc.exit_code == 2 else " (rerun with --debug for the traceback)"
            click.echo(f"error: {_one_line(str(exc))}{hint}", err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:
            if _debug(ctx):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {_one_line(str(exc))} (rerun with --debug for the traceback)",
                err=True,
            )
            ctx.exit(1)


def _debug(ctx: click.Context) -> bool:
    obj = ctx.find_object(CLIContext)
    return obj is not None and obj.debug


def _one_line(text: str, limit: int = 2000) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.option(
    "--config",
    "config",
    envvar="HOTCRM_AI_CONFIG",
    type=click.Path(dir_okay=False),
    help="Config file (default: ./hotcrm-ai.toml if present, else embedded defaults).",
)
@click.option("--json", "json_output", is_flag=True, help="Print JSON instead of text.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="hotcrm-ai", prog_name="hotcrm-ai")
@click.pass_context
def cli(ctx: click.Context, config: str | None, json_output: bool, debug: bool) -> None:
    """hotcrm-ai: predictions, explanations, monitoring and analytics for CRM data."""
    if _STRICT_ERROR:
        raise _STRICT_ERROR[0]
    obj = CLIContext(config=config, json_output=json_output, debug=debug)
    ctx.obj = obj
    ctx.call_on_close(obj.close)


def _install() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # an area not built into this install
                continue
            raise
        module.register(cli)
    _plugin_commands()


_STRICT_ERROR: list[Exception] = []  # a strict-mode plugin failure, raised when a command runs


def _plugin_commands() -> None:
    """Plugins' ``register_commands(cli)``, through the same isolated loader as everything else: a
    broken plugin is reported and skipped; in strict mode the failure is raised when a command runs
    (never as a traceback at start-up)."""
    from hotcrm_ai.errors import PluginError
    from hotcrm_ai.plugins import PluginHost

    try:
        host = PluginHost(builtins=(), collect=False)
        host.add_commands(cli)  # failures are logged and recorded like any other plugin error
    except PluginError as exc:
        _STRICT_ERROR.append(exc)


_install()


def main(argv: list[str] | None = None) -> None:
    from hotcrm_ai.errors import PluginError

    try:
        cli.main(args=argv, prog_name="hotcrm-ai")
    except PluginError as exc:  # strict mode while loading
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
