"""Monitor statistics: the TypeScript version's test cases with the new API, the percentile
rule, time windows on an injected clock, variants, usage, the per-model bound and bad input."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.monitor import T0, Clock, event

from hotcrm_ai.config import MonitorSettings
from hotcrm_ai.converter import structure, unstructure
from hotcrm_ai.errors import ValidationError
from hotcrm_ai.monitor import EventStore, ModelStats, PerformanceMonitor


def monitor(clock: Clock | None = None, **settings_kw: object) -> PerformanceMonitor:
    return PerformanceMonitor([EventStore()], MonitorSettings(**settings_kw), clock=clock or Clock())  # type: ignore[arg-type]


# -- the TypeScript version's performance-monitor.test.ts --------------------------------------


def test_single_success() -> None:
    m = monitor()
    m.record(event(latency_ms=150, confidence=0.85))
    s = m.stats("test-model")
    assert s is not None
    assert (s.total, s.successes, s.failures) == (1, 1, 0)
    assert s.latency_mean_ms == 150
    assert s.mean_confidence == 0.85


def test_single_failure_is_a_100_percent_error_rate() -> None:
    m = monitor()
    m.record(event(latency_ms=200, confidence=0, success=False, error="Test error"))
    s = m.stats("test-model")
    assert s is not None
    assert (s.total, s.successes, s.failures, s.error_rate) == (1, 0, 1, 100)
    assert s.mean_confidence == 0  # no successful events


def test_three_successes() -> None:
    m = monitor()
    for latency, confidence in ((100, 0.9), (200, 0.8), (150, 0.85)):
        m.record(event(latency_ms=latency, confidence=confidence))
    s = m.stats("test-model")
    assert s is not None
    assert (s.total, s.successes) == (3, 3)
    assert s.latency_mean_ms == pytest.approx(150)
    assert s.mean_confidence == pytest.approx(0.85)


def test_error_rate_and_confidence_of_successes_only() -> None:
    m = monitor()
    for latency, confidence, ok in ((100, 0.9, True), (150, 0, False), (120, 0.85, True), (180, 0, False)):
        m.record(event(latency_ms=latency, confidence=confidence, success=ok))
    s = m.stats("test-model")
    assert s is not None
    assert (s.total, s.successes, s.failures, s.error_rate) == (4, 2, 2, 50)
    assert s.mean_confidence == pytest.approx(0.875)  # failures' 0 confidence is not averaged in
    assert s.latency_mean_ms == pytest.approx(137.5)  # failures' latency is


def test_cache_hit_rate() -> None:
    m = monitor()
    m.record(event(latency_ms=10, cached=True))
    m.record(event(latency_ms=5, cached=True))
    assert m.stats("test-model").cache_hit_rate == 100  # type: ignore[union-attr]
    m.clear()
    for cached, latency in ((True, 5), (True, 5), (False, 100), (False, 110)):
        m.record(event(latency_ms=latency, cached=cached))
    s = m.stats("test-model")
    assert s is not None
    assert (s.total, s.cached, s.cache_hit_rate) == (4, 2, 50)


def test_cache_hit_rate_keeps_failures_in_the_denominator() -> None:
    m = monitor()
    m.record(event(cached=True))
    m.record(event(success=False))
    assert m.stats("test-model").cache_hit_rate == 50  # type: ignore[union-attr]


def test_percentiles_follow_the_floor_rule() -> None:
    m = monitor()
    for latency in range(100, 551, 50):  # ten values
        m.record(event(latency_ms=latency))
    s = m.stats("test-model")
    assert s is not None
    assert 0 < s.latency_p95_ms <= 550
    assert s.latency_p95_ms == 550  # floor(10 * 0.95) = 9: the maximum
    assert s.latency_p50_ms == 350  # floor(10 * 0.5) = 5: the upper median

    m.clear()
    for i in range(1, 101):
        m.record(event(latency_ms=i * 10))
    s = m.stats("test-model")
    assert s is not None
    assert s.latency_p99_ms == 1000  # floor(100 * 0.99) = 99
    assert s.latency_p95_ms == 960


def test_median_of_five_is_exactly_300() -> None:
    m = monitor()
    for latency in (500, 100, 400, 200, 300):  # order of arrival does not matter
        m.record(event(latency_ms=latency))
    assert m.stats("test-model").latency_p50_ms == 300  # type: ignore[union-attr]


def test_median_of_four_is_the_upper_median() -> None:
    m = monitor()
    for latency in (100, 200, 300, 400):
        m.record(event(latency_ms=latency))
    assert m.stats("test-model").latency_p50_ms == 300  # type: ignore[union-attr]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e5), min_size=1, max_size=300))
def test_percentiles_match_an_independent_sort(latencies: list[float]) -> None:
    m = monitor()
    for latency in latencies:
        m.record(event(latency_ms=latency))
    s = m.stats("test-model")
    assert s is not None
    ordered = sorted(latencies)
    n = len(ordered)
    assert s.latency_p50_ms == ordered[math.floor(n * 0.5)]
    assert s.latency_p95_ms == ordered[math.floor(n * 0.95)]
    assert s.latency_p99_ms == ordered[math.floor(n * 0.99)]
    assert s.latency_mean_ms == pytest.approx(math.fsum(latencies) / n, rel=1e-9, abs=1e-9)


def test_all_stats_and_clear() -> None:
    m = monitor()
    for model_id, latency in (("model-1", 100), ("model-2", 200), ("model-3", 150)):
        m.record(event(model_id, latency_ms=latency))
    everything = m.all_stats()
    assert sorted(everything) == ["model-1", "model-2", "model-3"]
    assert everything["model-2"].latency_mean_ms == 200
    m.clear("model-2")
    assert sorted(m.all_stats()) == ["model-1", "model-3"]
    m.clear()
    assert m.all_stats() == {}
    assert m.stats("model-1") is None


def test_two_monitors_share_nothing() -> None:
    a, b = monitor(), monitor()
    a.record(event("shared-model"))
    assert a.stats("shared-model").total == 1  # type: ignore[union-attr]
    assert b.stats("shared-model") is None


# -- windows --------------------------------------------------------------------------------------


def test_time_window_is_strict_and_uses_the_injected_clock() -> None:
    clock = Clock(T0)
    m = monitor(clock)
    for age in (400, 300, 299.5, 10, 0):
        m.record(event(timestamp=T0 - age, latency_ms=age))
    assert m.stats("test-model").total == 5  # type: ignore[union-attr]
    s = m.stats("test-model", window_s=300)
    assert s is not None
    assert s.total == 3  # 300 s old is out: now - t < window is strict
    assert s.window_s == 300
    assert s.last_updated == T0
    clock.advance(100)
    assert m.stats("test-model", window_s=300).total == 2  # type: ignore[union-attr]
    clock.advance(1000)
    assert m.stats("test-model", window_s=300) is None  # nothing in the window: None, as the original
    assert m.all_stats(window_s=300) == {}
    assert sorted(m.all_stats()) == ["test-model"]


@pytest.mark.parametrize("bad", [0, -5, math.nan, math.inf, "60", True])
def test_bad_windows_are_rejected(bad: object) -> None:
    m = monitor()
    m.record(event())
    with pytest.raises(ValidationError, match="window_s: expected a number of seconds > 0"):
        m.stats("test-model", window_s=bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="window_s"):
        m.all_stats(window_s=bad)  # type: ignore[arg-type]


# -- variants, served model, usage, degraded ---------------------------------------------------


def test_stats_are_keyed_by_the_served_model_and_filter_by_variant() -> None:
    m = monitor()
    for _ in range(3):
        m.record(event("challenger", requested_model_id="challenger", variant="challenger", latency_ms=100))
    for _ in range(2):
        m.record(event("champion", requested_model_id="challenger", variant="champion", latency_ms=300))
    m.record(event("champion", variant=None, latency_ms=50, success=False))
    champion = m.stats("champion")
    assert champion is not None and champion.total == 3 and champion.variant is None
    only = m.stats("champion", variant="champion")
    assert only is not None
    assert (only.total, only.variant, only.latency_mean_ms, only.failures) == (2, "champion", 300, 0)
    assert m.stats("champion", variant="challenger") is None
    assert m.stats("challenger").total == 3  # type: ignore[union-attr]


def test_usage_sums_every_numeric_key_and_degraded_is_counted() -> None:
    m = monitor()
    m.record(event(usage={"prompt_tokens": 10, "completion_tokens": 5, "cost_usd": 0.25}))
    m.record(event(usage={"prompt_tokens": 7, "cost_usd": 0.5, "model": "gpt", "cached": True}))
    m.record(event(degraded=True, degraded_reason="fallback model served"))
    s = m.stats("test-model")
    assert s is not None
    assert s.usage == {"prompt_tokens": 17, "completion_tokens": 5, "cost_usd": 0.75}
    assert s.degraded == 1


def test_stats_serialise_through_the_converter() -> None:
    m = monitor()
    m.record(event(usage={"tokens": 3}))
    m.record(event(success=False, latency_ms=250))
    s = m.stats("test-model", window_s=60)
    assert s is not None
    data = json.loads(json.dumps(unstructure(s)))
    assert data["error_rate"] == 50 and data["window_s"] == 60 and data["usage"] == {"tokens": 3}
    assert data["accuracy"] is None
    assert structure(data, ModelStats) == s


# -- recent errors ------------------------------------------------------------------------------


def test_recent_errors_newest_first_with_limit() -> None:
    m = monitor()
    for i in range(15):
        m.record(event(success=i % 3 != 0, error=f"e{i}" if i % 3 == 0 else None, timestamp=T0 + i))
    errors = m.recent_errors("test-model", limit=3)
    assert [e.error for e in errors] == ["e12", "e9", "e6"]
    assert [e.error for e in m.recent_errors("test-model")] == ["e12", "e9", "e6", "e3", "e0"]
    assert m.recent_errors("test-model", limit=0) == []  # JS slice(-0) returned every failure
    assert m.recent_errors("unknown") == []
    with pytest.raises(ValidationError, match="limit: expected an integer >= 0"):
        m.recent_errors("test-model", limit=-1)


# -- bound and bad events ---------------------------------------------------------------------


def test_memory_is_bounded_per_model_keeping_the_newest() -> None:
    m = monitor(max_events_per_model=5)
    for i in range(8):
        m.record(event(latency_ms=i))
    m.record(event("other", latency_ms=1))
    s = m.stats("test-model")
    assert s is not None
    assert s.total == 5
    assert s.latency_mean_ms == pytest.approx((3 + 4 + 5 + 6 + 7) / 5)
    store = m.store
    assert isinstance(store, EventStore)
    assert store.max_events_per_model == 5
    assert store.evicted("test-model") == 3 and store.evicted("other") == 0 and store.evicted() == 3
    assert m.stats("other").total == 1  # type: ignore[union-attr]


def test_store_resize_keeps_each_models_newest_events() -> None:
    store = EventStore(10)
    for i in range(10):
        store.record(event(latency_ms=i))
    store.resize(4)
    assert [e.latency_ms for e in store.events("test-model")] == [6, 7, 8, 9]
    assert store.evicted("test-model") == 6
    store.record(event(latency_ms=10))
    assert [e.latency_ms for e in store.events("test-model")] == [7, 8, 9, 10]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"latency_ms": math.nan}, "latency_ms"),
        ({"latency_ms": -1.0}, "latency_ms"),
        ({"latency_ms": math.inf}, "latency_ms"),
        ({"timestamp": math.nan}, "timestamp"),
        ({"confidence": math.inf}, "confidence"),
    ],
)
def test_invalid_events_are_rejected_naming_the_field(fields: dict[str, float], field: str) -> None:
    m = monitor()
    with pytest.raises(ValidationError, match=f"{field}: expected"):
        m.record(event(**fields))
    assert m.stats("test-model") is None


def test_only_prediction_events_are_accepted() -> None:
    m = monitor()
    with pytest.raises(ValidationError, match="event: expected a PredictionEvent, got dict"):
        m.record({"model_id": "x"})  # type: ignore[arg-type]


def test_wrongly_typed_event_fields_are_rejected() -> None:
    m = monitor()
    with pytest.raises(ValidationError, match="latency_ms: expected a finite number >= 0, got '12'"):
        m.record(event(latency_ms="12"))  # type: ignore[arg-type]
