"""Memory per pending outcome stays small and bounded (issue 22: flat memory under sustained load).

The pending map keeps a compact record per successful prediction, not the whole event; outcomes
still join to it exactly.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
import uuid

import pytest

from hotcrm_ai.config import MonitorSettings
from hotcrm_ai.monitor.monitor import PerformanceMonitor
from hotcrm_ai.types import PredictionEvent


def event(i: int) -> PredictionEvent:
    return PredictionEvent(
        model_id="lead-v1",
        requested_model_id="lead-v1",
        model_version="1.0.0",
        timestamp=time.time(),
        latency_ms=1.0 + i % 7,
        success=True,
        confidence=40.0 + i % 3,
        provider="test-logit",
        tenant="acme",
        prediction_id=uuid.uuid4().hex,
        prediction={"probability": 0.25 + (i % 100) / 1000},
    )


def test_pending_outcomes_cost_under_400_bytes_each_and_stay_bounded() -> None:
    n = 10_000
    gc.collect()
    tracemalloc.start()
    try:
        monitor = PerformanceMonitor(settings=MonitorSettings(max_events_per_model=1, max_outcomes=n))
        base = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            monitor.record(event(i))
        gc.collect()
        full = tracemalloc.get_traced_memory()[0] - base
        for i in range(n, 3 * n):  # twice the bound again: evicted records are freed
            monitor.record(event(i))
        gc.collect()
        after = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert full / n < 400  # a whole event is ~700 bytes
    assert after < full * 1.5  # unbounded would be 3x; dict slack after deletions is the rest


def test_an_outcome_joins_the_compact_record_exactly() -> None:
    monitor = PerformanceMonitor(settings=MonitorSettings(max_outcomes=10))
    events = [event(i) for i in range(12)]
    for e in events:
        monitor.record(e)
    outcome = monitor.record_outcome(events[-1].prediction_id, 0.5)
    assert outcome.kind == "value" and outcome.prediction == events[-1].prediction["probability"]
    assert outcome.abs_error == pytest.approx(abs(0.5 - events[-1].prediction["probability"]))
    assert outcome.model_id == "lead-v1" and outcome.timestamp == events[-1].timestamp
    with pytest.raises(Exception, match="prediction_id"):
        monitor.record_outcome(events[0].prediction_id, 0.5)  # evicted: the newest 10 are kept
