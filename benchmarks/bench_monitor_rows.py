"""``PerformanceMonitor.stats()`` over a ring of batch rows vs one of single events.

A cached batch is recorded as rows (``record_checked_rows``: tuples, no event objects); ``stats()``
over such a ring should cost what it costs over the equivalent events, not build 10,000 events first.

Run: ``python benchmarks/bench_monitor_rows.py [calls [rows|events]]``: prints the median wall time of
``stats()`` over 10,000 rows and over 10,000 events. With ``calls`` (under callgrind) it makes that
many ``stats()`` calls on one ring (rows by default) and nothing else, so (total(N) - total(0)) / N is
the cost of one.
"""

from __future__ import annotations

import statistics
import sys
import time

import attrs

from hotcrm_ai.monitor import PerformanceMonitor
from hotcrm_ai.types import PredictionEvent

N_EVENTS = 10_000


def make_events(n: int = N_EVENTS) -> list[PredictionEvent]:
    now = time.time()
    return [
        PredictionEvent(
            model_id="churn-prediction-v1",
            requested_model_id="churn-prediction-v1",
            model_version="1.0.0",
            timestamp=now - (n - i) * 0.001,
            latency_ms=0.4 + (i % 17) * 0.01,
            success=True,
            confidence=60.0 + i % 30,
            cached=True,
            variant="a" if i % 2 else None,
            prediction_id=f"p{i}",
            usage={"tokens": i % 5} if i % 4 == 0 else {},
            prediction={"risk": "low"},
        )
        for i in range(n)
    ]


def monitors() -> tuple[PerformanceMonitor, PerformanceMonitor]:
    events = make_events()
    by_rows, by_events = PerformanceMonitor(), PerformanceMonitor()
    by_rows.record_checked_rows([attrs.astuple(e, recurse=False) for e in events])
    for e in events:
        by_events.record_checked(e)
    assert by_rows.stats("churn-prediction-v1") == by_events.stats("churn-prediction-v1")
    return by_rows, by_events


def median_ms(monitor: PerformanceMonitor, runs: int = 30) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        monitor.stats("churn-prediction-v1")
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    by_rows, by_events = monitors()
    if len(sys.argv) > 1:
        monitor = by_events if sys.argv[2:] == ["events"] else by_rows
        for _ in range(int(sys.argv[1])):
            monitor.stats("churn-prediction-v1")
        return
    median_ms(by_rows, 3)  # warm up (numpy import)
    print(f"stats() over {N_EVENTS:,} batch rows:    {median_ms(by_rows):6.2f} ms")
    print(f"stats() over {N_EVENTS:,} single events: {median_ms(by_events):6.2f} ms")


if __name__ == "__main__":
    main()
