"""``progress=``: silent by default, a caller's callback sees every row, a bar only on a terminal."""

from __future__ import annotations

import io
import sys

import pytest

from hotcrm_ai.errors import ValidationError
from hotcrm_ai.progress import reporter


def test_callback_sees_the_running_total() -> None:
    seen: list[tuple[int, int]] = []
    r = reporter(lambda done, total: seen.append((done, total)), 10)
    for n in (4, 4, 2):
        r.advance(n)
    r.close()
    assert seen == [(4, 10), (8, 10), (10, 10)]


def test_bar_is_silent_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    r = reporter(True, 5, "predicting")
    r.advance(5)
    r.close()
    assert buffer.getvalue() == ""


@pytest.mark.parametrize("bad", ["yes", 1.5, object()])
def test_anything_else_is_a_typed_error(bad: object) -> None:
    with pytest.raises(ValidationError, match="progress"):
        reporter(bad, 1)  # type: ignore[arg-type]
