"""Health: the original's three cases, every threshold at its boundary, the exact
reason wording with JS ``toFixed`` rounding, the 5-minute window and configurable thresholds."""

from __future__ import annotations

import json

import pytest
from support.monitor import T0, Clock, event

from hotcrm_ai.config import HealthThresholds, MonitorSettings
from hotcrm_ai.converter import unstructure
from hotcrm_ai.monitor import EventStore, HealthStatus, PerformanceMonitor


def monitor(clock: Clock | None = None, **health: float) -> PerformanceMonitor:
    settings = MonitorSettings(health=HealthThresholds(**health))
    return PerformanceMonitor([EventStore()], settings, clock=clock or Clock())


def record(m: PerformanceMonitor, *, ok: int = 0, failed: int = 0, latency_ms: float = 100, **kw: object) -> None:
    for _ in range(ok):
        m.record(event(latency_ms=latency_ms, **kw))  # type: ignore[arg-type]
    for _ in range(failed):
        m.record(event(latency_ms=latency_ms, success=False, confidence=0, **kw))  # type: ignore[arg-type]


def status(m: PerformanceMonitor, model_id: str = "test-model") -> tuple[str, str | None]:
    h = m.health(model_id)
    return h.status, h.reason


def test_original_cases() -> None:
    m = monitor()
    record(m, ok=10, latency_ms=100)
    assert status(m) == ("healthy", None)

    m = monitor()
    record(m, ok=10, latency_ms=600)
    assert status(m) == ("degraded", "High latency: P95 = 600ms")

    m = monitor()
    record(m, failed=5)
    record(m, ok=2)
    assert status(m) == ("unhealthy", "High error rate: 71.4%")


def test_no_recent_predictions_is_healthy_with_a_reason() -> None:
    clock = Clock()
    m = monitor(clock)
    assert status(m) == ("healthy", "No recent predictions")
    assert m.health("test-model").stats is None
    record(m, failed=10, timestamp=T0 - 300)  # exactly 5 minutes old: outside the strict window
    assert status(m) == ("healthy", "No recent predictions")
    record(m, failed=1, timestamp=T0 - 299)
    assert status(m) == ("unhealthy", "High error rate: 100.0%")
    clock.advance(2)
    assert status(m) == ("healthy", "No recent predictions")


@pytest.mark.parametrize(
    ("ok", "failed", "expected"),
    [
        (9, 1, ("degraded", "Elevated error rate: 10.0%")),  # exactly 10 %: not unhealthy
        (17, 2, ("unhealthy", "High error rate: 10.5%")),  # 10.53 %
        (19, 1, ("healthy", None)),  # exactly 5 %: healthy
        (18, 1, ("degraded", "Elevated error rate: 5.3%")),  # 5.26 %
        (15, 1, ("degraded", "Elevated error rate: 6.3%")),  # 6.25 % rounds half up, as JS toFixed
        (0, 3, ("unhealthy", "High error rate: 100.0%")),
    ],
)
def test_error_rate_boundaries(ok: int, failed: int, expected: tuple[str, str | None]) -> None:
    m = monitor()
    record(m, ok=ok, failed=failed)
    assert status(m) == expected


@pytest.mark.parametrize(
    ("latency", "expected"),
    [
        (500.0, ("healthy", None)),  # exactly 500 ms: healthy
        (500.4, ("degraded", "High latency: P95 = 500ms")),
        (500.5, ("degraded", "High latency: P95 = 501ms")),  # half away from zero
        (1234.0, ("degraded", "High latency: P95 = 1234ms")),
    ],
)
def test_latency_boundary(latency: float, expected: tuple[str, str | None]) -> None:
    m = monitor()
    record(m, ok=20, latency_ms=100)
    record(m, ok=1, latency_ms=latency)  # floor(21 * 0.95) = 19: p95 is the second largest...
    record(m, ok=1, latency_ms=latency)  # ...so two slow calls put it there
    assert m.health("test-model").stats.latency_p95_ms == latency  # type: ignore[union-attr]
    assert status(m) == expected


def test_cached_calls_count_in_the_p95_and_error_rate_wins_over_latency() -> None:
    m = monitor()
    record(m, ok=10, latency_ms=900, cached=True)
    assert status(m) == ("degraded", "High latency: P95 = 900ms")
    record(m, failed=10, latency_ms=900)
    assert status(m) == ("unhealthy", "High error rate: 50.0%")


def test_thresholds_come_from_settings() -> None:
    m = monitor(error_rate_unhealthy=50, error_rate_degraded=20, p95_latency_ms=1000, window_s=60)
    record(m, ok=7, failed=3, latency_ms=900)
    assert status(m) == ("degraded", "Elevated error rate: 30.0%")
    assert m.health("test-model").stats.window_s == 60  # type: ignore[union-attr]


def test_health_per_variant() -> None:
    m = monitor()
    record(m, ok=10, variant="a")
    record(m, failed=10, variant="b")
    assert m.health("test-model", variant="a").status == "healthy"
    assert m.health("test-model", variant="b").status == "unhealthy"
    assert m.health("test-model").reason == "High error rate: 50.0%"


def test_health_status_serialises() -> None:
    m = monitor()
    record(m, ok=1, failed=1)
    h = m.health("test-model")
    assert isinstance(h, HealthStatus) and not h.healthy
    data = json.loads(json.dumps(unstructure(h)))
    assert data["status"] == "unhealthy" and data["model_id"] == "test-model"
    assert data["reason"] == "High error rate: 50.0%" and data["stats"]["total"] == 2
