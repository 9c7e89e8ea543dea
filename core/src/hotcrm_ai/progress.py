"""Progress reporting for long calls (``batch_predict``, ``score``, the CLI's ``batch``).

Callers pass ``progress=``: ``None``/``False`` for silence, ``True`` for a bar on standard error that
appears only when it is a terminal (a log file or a pipe stays clean), or a callable
``progress(done, total)`` to drive their own display.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Protocol

ProgressCallback = Callable[[int, int], None]
Progress = bool | ProgressCallback | None


class Reporter(Protocol):
    def advance(self, n: int) -> None: ...

    def close(self) -> None: ...


class _Silent:
    def advance(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class _Callback:
    def __init__(self, callback: ProgressCallback, total: int) -> None:
        self._callback = callback
        self._total = total
        self._done = 0

    def advance(self, n: int) -> None:
        self._done += n
        self._callback(self._done, self._total)

    def close(self) -> None:
        pass


class _Bar:
    """click's progress bar on standard error; hidden (not even its label) when that is no terminal."""

    def __init__(self, total: int, label: str) -> None:
        import click

        stream = sys.stderr
        self._bar: Any = click.progressbar(
            length=total, label=label, file=stream, show_pos=True, hidden=not stream.isatty()
        )
        self._bar.__enter__()

    def advance(self, n: int) -> None:
        self._bar.update(n)

    def close(self) -> None:
        self._bar.__exit__(None, None, None)


def reporter(progress: Progress, total: int, label: str = "predicting") -> Reporter:
    """The reporter for a ``progress=`` argument; a callable that is not ``True`` is called as given."""
    if progress is None or progress is False:
        return _Silent()
    if progress is True:
        return _Bar(total, label)
    if callable(progress):
        return _Callback(progress, total)
    from hotcrm_ai.errors import ValidationError

    raise ValidationError(
        f"True, False, None or a callable progress(done, total), got {type(progress).__name__}", subject="progress"
    )
