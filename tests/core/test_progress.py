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


def test_batch_predict_reports_every_row_and_keeps_order() -> None:
    from support.providers import LogitProvider, Plugin, logit_model

    from hotcrm_ai import AICloud
    from hotcrm_ai.cloud import PROGRESS_CHUNK
    from hotcrm_ai.config import Settings

    seen: list[tuple[int, int]] = []
    rows = [{"x1": i % 7, "x2": 1, "x3": 0} for i in range(PROGRESS_CHUNK + 5)] + [{"x1": "bad"}]
    with AICloud(
        Settings(), plugins=[Plugin({"test-logit": LogitProvider}, [logit_model()])], load_entrypoints=False
    ) as ai:
        plain = ai.batch_predict("logit-v1", rows, use_cache=False)
        shown = ai.batch_predict(
            "logit-v1", rows, use_cache=False, progress=lambda done, total: seen.append((done, total))
        )
    assert seen == [(PROGRESS_CHUNK, len(rows)), (len(rows), len(rows))]
    assert [r.prediction for r in shown] == [r.prediction for r in plain]
    assert shown[-1].error is not None and shown[-1].error.type == "ValidationError"


def test_score_reports_progress_as_done_and_total() -> None:
    from support.providers import LogitProvider, Plugin, logit_model

    from hotcrm_ai import AICloud
    from hotcrm_ai.config import Settings

    seen: list[tuple[int, int]] = []
    columns = {"x1": list(range(250)), "x2": [1] * 250, "x3": [0] * 250}
    with AICloud(
        Settings(), plugins=[Plugin({"test-logit": LogitProvider}, [logit_model()])], load_entrypoints=False
    ) as ai:
        table = ai.score(
            "logit-v1", columns, chunk_rows=100, workers=1, progress=lambda done, total: seen.append((done, total))
        )
    assert table.num_rows == 250
    assert seen == [(100, 250), (200, 250), (250, 250)]
