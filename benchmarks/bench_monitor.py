"""Performance-monitor benchmarks. Run: ``python benchmarks/bench_monitor.py``.

``record()`` runs on the hot path of every prediction, so its cost is measured against the cheapest
thing that could possibly keep an event: appending it to a Python list. Every figure comes from this
run, in this process:

(a) record() into the memory store                         vs  list.append(event)
(b) record() into memory + jsonl + prometheus sinks        vs  list.append(event)   (what each sink adds)
(c) record() with a prediction id (outcome join kept)      vs  list.append(event)
(d) 8 threads x 20,000 record() calls: throughput           vs  the same threads appending to one list
(e) stats() over a full ring (10,000 events), health()      vs  sorting 10,000 floats (statistics floor)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from _timing import line, per_call_s

from hotcrm_ai.config import MonitorSettings
from hotcrm_ai.monitor import EventStore, PerformanceMonitor
from hotcrm_ai.types import PredictionEvent
from hotcrm_ai_plugins.sinks import jsonl_sink, prometheus_sink

N = 200_000


def make_event(i: int = 0, *, pid: bool = False) -> PredictionEvent:
    return PredictionEvent(
        model_id="lead-scoring-v1",
        requested_model_id="lead-scoring-v1",
        model_version="1.0.0",
        timestamp=time.time(),
        latency_ms=3.2 + (i % 17),
        success=i % 20 != 0,
        confidence=71.5,
        cached=i % 3 == 0,
        prediction_id=f"p{i}" if pid else "",
        prediction={"label": "hot"} if pid else None,
    )


def record_cost(monitor: PerformanceMonitor, events: list[PredictionEvent]) -> float:
    """Median over 5 runs of seconds per record() over ``events``."""
    runs = []
    record = monitor.record
    for _ in range(5):
        monitor.clear()
        start = time.perf_counter()
        for e in events:
            record(e)
        runs.append((time.perf_counter() - start) / len(events))
    return statistics.median(runs)


def append_cost(events: list[PredictionEvent]) -> float:
    runs = []
    for _ in range(5):
        kept: list[PredictionEvent] = []
        append = kept.append
        start = time.perf_counter()
        for e in events:
            append(e)
        runs.append((time.perf_counter() - start) / len(events))
    return statistics.median(runs)


def threaded(fn_factory: object, threads: int = 8, per_thread: int = 20_000) -> float:
    """Events per second with ``threads`` threads each calling the function ``per_thread`` times."""
    events = [make_event(i) for i in range(per_thread)]
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        fn = fn_factory()  # type: ignore[operator]
        barrier.wait()
        for e in events:
            fn(e)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    return threads * per_thread / (time.perf_counter() - start)


def main() -> int:
    events = [make_event(i) for i in range(N)]
    with_ids = [make_event(i, pid=True) for i in range(N)]
    baseline = append_cost(events)

    memory = PerformanceMonitor([EventStore()], MonitorSettings())
    ours = record_cost(memory, events)
    print(line("(a) record() memory store, per event", ours * 1e6, baseline * 1e6, "us", "informative"))

    with tempfile.TemporaryDirectory() as tmp:
        jsonl = jsonl_sink({"path": str(Path(tmp) / "events.jsonl")})
        prom = prometheus_sink({})
        full = PerformanceMonitor([EventStore(), jsonl, prom], MonitorSettings())
        some = events[:20_000]
        ours_full = record_cost(full, some)
        print(
            line(
                "(b) record() memory + jsonl + prometheus, per event",
                ours_full * 1e6,
                baseline * 1e6,
                "us",
                "informative",
            )
        )
        only_prom = PerformanceMonitor([EventStore(), prometheus_sink({})], MonitorSettings())
        print(
            line(
                "    of which prometheus sink (memory + prometheus)",
                record_cost(only_prom, some) * 1e6,
                baseline * 1e6,
                "us",
                "informative",
            )
        )
        full.close()
        only_prom.close()

    outcomes = PerformanceMonitor([EventStore()], MonitorSettings())
    print(
        line(
            "(c) record() with prediction id (outcome join)",
            record_cost(outcomes, with_ids) * 1e6,
            baseline * 1e6,
            "us",
            "informative",
        )
    )

    shared = PerformanceMonitor([EventStore()], MonitorSettings())
    rate = threaded(lambda: shared.record)
    kept: list[PredictionEvent] = []
    rate_list = threaded(lambda: kept.append)
    print(
        line(
            "(d) 8 threads: events/s (record vs list.append)",
            rate,
            rate_list,
            "ev/s",
            "informative",
            higher_is_better=True,
        )
    )
    total = sum(s.total for s in shared.all_stats().values())
    print(f"    events retained after the threaded run: {total:,} (bound 10,000 per model)")

    full_ring = PerformanceMonitor([EventStore()], MonitorSettings())
    for e in events[:10_000]:
        full_ring.record(e)
    latencies = [e.latency_ms for e in events[:10_000]]
    stats_s = per_call_s(lambda: full_ring.stats("lead-scoring-v1"), number=20)
    sort_s = per_call_s(lambda: sorted(latencies), number=200)
    print(line("(e) stats() over 10,000 events", stats_s * 1e3, sort_s * 1e3, "ms", "informative"))
    health_s = per_call_s(lambda: full_ring.health("lead-scoring-v1"), number=20)
    print(line("    health() over 10,000 events", health_s * 1e3, sort_s * 1e3, "ms", "informative"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
