"""State shared by every CLI command: options of the root group, a lazily built AICloud, output.

Commands never build an ``AICloud`` at import or for ``--help``: ``cloud()`` builds it on first use.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from hotcrm_ai.cloud import AICloud


class CLIContext:
    def __init__(self, *, config: str | None, json_output: bool, debug: bool) -> None:
        self.config = config
        self.json_output = json_output
        self.debug = debug
        self._cloud: AICloud | None = None

    def cloud(self) -> AICloud:
        if self._cloud is None:
            from hotcrm_ai.cloud import AICloud

            self._cloud = AICloud.from_config(self.config)
        return self._cloud

    def close(self) -> None:
        if self._cloud is not None:
            self._cloud.close()
            self._cloud = None

    def output(self, data: Any, human: Callable[[], str] | str | None = None, *, json_flag: bool = False) -> None:
        """Print ``data`` as JSON (through the converter) when ``--json`` is on, else the human text.

        Every URL printed goes through ``secrets.mask_url`` (user info and credential-bearing query
        values masked): an endpoint or database URL typed with a password in it never reaches a screen
        or a log file, whichever command prints it."""
        from hotcrm_ai.secrets import mask_urls

        if self.json_output or json_flag or human is None:
            from hotcrm_ai.converter import unstructure

            click.echo(mask_urls(json.dumps(unstructure(data), indent=2, ensure_ascii=False, default=str)))
        else:
            click.echo(mask_urls(human() if callable(human) else human))

    def warn(self, message: str) -> None:
        click.echo(message, err=True)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--json`` on a subcommand, same effect as the root ``--json``."""

    def set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        obj = ctx.find_object(CLIContext)
        if value and obj is not None:
            obj.json_output = True

    return click.option("--json", "json_flag", is_flag=True, expose_value=False, callback=set_json, help="Print JSON.")(
        func
    )


pass_cli = click.make_pass_decorator(CLIContext, ensure=False)


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()
