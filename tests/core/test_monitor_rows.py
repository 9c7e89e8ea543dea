"""Statistics over a ring of batch rows (``record_checked_rows``: events kept as tuples) are those of
the same events recorded one by one, computed from the rows without building an event per row."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import pytest

from hotcrm_ai.monitor import PerformanceMonitor
from hotcrm_ai.types import PredictionEvent

NOW = 1_000_000.0
MODEL = "m"


def _events(n: int = 400) -> list[PredictionEvent]:
    usage_kinds: list[dict[str, Any]] = [{}, {"tokens": 3}, {"tokens": 2.5, "calls": 1}, {"flag": True, "x": math.inf}]
    return [
        PredictionEvent(
            model_id=MODEL,
            requested_model_id=MODEL,
            model_version="1.0.0",
            timestamp=NOW - (n - i) * 0.37,  # spans about 148 s
            latency_ms=0.1 + (i * 7919 % 1000) / 7.0,
            success=i % 11 != 0,
            confidence=0.0 if i % 11 == 0 else 10.0 + (i * 31 % 900) / 10.0,
            cached=i % 3 == 0,
            degraded=i % 13 == 0,
            variant=(None, "a", "b")[i % 3],
            prediction_id=f"p{i}",
            error="boom" if i % 11 == 0 else None,
            usage=usage_kinds[i % 4],
        )
        for i in range(n)
    ]


def _monitors(events: list[PredictionEvent]) -> tuple[PerformanceMonitor, PerformanceMonitor, PerformanceMonitor]:
    rows = [attrs.astuple(e, recurse=False) for e in events]
    by_rows, by_events, mixed = (PerformanceMonitor(clock=lambda: NOW) for _ in range(3))
    by_rows.record_checked_rows(rows)
    for e in events:
        by_events.record_checked(e)
    for i in range(0, len(events), 50):  # batches and single events interleaved, in arrival order
        if i % 100:
            mixed.record_checked_rows(rows[i : i + 50])
        else:
            for e in events[i : i + 50]:
                mixed.record_checked(e)
    return by_rows, by_events, mixed


@pytest.mark.parametrize("variant", [None, "a", "b", "missing"])
@pytest.mark.parametrize("window_s", [None, 30.0, 1e9])
def test_stats_from_rows_equal_stats_from_events(variant: str | None, window_s: float | None) -> None:
    by_rows, by_events, mixed = _monitors(_events())
    expected = by_events.stats(MODEL, variant=variant, window_s=window_s)
    assert by_rows.stats(MODEL, variant=variant, window_s=window_s) == expected
    assert mixed.stats(MODEL, variant=variant, window_s=window_s) == expected
    if variant == "missing":
        assert expected is None
    else:
        assert expected is not None and expected.total > 0 and expected.failures > 0
        assert expected.usage["tokens"] > 0 and "flag" not in expected.usage and "x" not in expected.usage


def test_all_stats_health_and_recent_errors_agree() -> None:
    by_rows, by_events, mixed = _monitors(_events())
    for monitor in (by_rows, mixed):
        assert monitor.all_stats() == by_events.all_stats()
        assert monitor.all_stats(window_s=20.0) == by_events.all_stats(window_s=20.0)
        assert monitor.health(MODEL) == by_events.health(MODEL)
        assert monitor.recent_errors(MODEL, 7) == by_events.recent_errors(MODEL, 7)
        assert monitor.recent_errors(MODEL, 0) == []


def test_a_window_with_no_events_gives_none() -> None:
    by_rows, by_events, _ = _monitors(_events(10))
    assert by_rows.stats(MODEL, window_s=0.1) is None and by_events.stats(MODEL, window_s=0.1) is None
    assert PerformanceMonitor().stats("nothing") is None


@contextmanager
def _counting(fn: Callable[..., Any]) -> Iterator[list[int]]:
    """Counts calls of the Python function ``fn`` (through ``sys.setprofile``: nothing replaced)."""
    code, calls = fn.__code__, [0]

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is code:
            calls[0] += 1

    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(None)


def test_stats_over_rows_build_no_event_and_recent_errors_build_only_failures() -> None:
    events = _events(2000)
    by_rows, _, _ = _monitors(events)
    with _counting(PredictionEvent.__init__) as built:
        stats = by_rows.stats(MODEL)
        by_rows.health(MODEL)
    assert stats is not None and stats.total == 2000
    assert built[0] == 0
    with _counting(PredictionEvent.__init__) as built:
        errors = by_rows.recent_errors(MODEL, 5)
    assert len(errors) == 5 and all(not e.success for e in errors)
    assert built[0] == 5  # the five failures found from the newest back, nothing else
