"""Outcome feedback: accuracy for labels, MAE for values, corrections, windows and variants, the
bound on remembered predictions, bad input, and the whole loop through ``AICloud``."""

from __future__ import annotations

import math
from typing import Any

import pytest
from support.monitor import T0, Clock, event
from support.providers import LogitProvider, Plugin, logit_model

from hotcrm_ai.config import MonitorSettings, Settings
from hotcrm_ai.errors import ValidationError
from hotcrm_ai.monitor import EventStore, PerformanceMonitor


def monitor(clock: Clock | None = None, **kw: Any) -> PerformanceMonitor:
    return PerformanceMonitor([EventStore()], MonitorSettings(**kw), clock=clock or Clock())


def predicted(m: PerformanceMonitor, pid: str, prediction: Any, **kw: Any) -> None:
    m.record(event(prediction_id=pid, prediction=prediction, **kw))


def test_label_predictions_give_accuracy() -> None:
    m = monitor()
    predicted(m, "p1", {"label": "hot", "score": 91.0, "probability": 0.91})
    predicted(m, "p2", {"risk": "high", "probability": 0.8})
    predicted(m, "p3", {"sentiment": "positive", "score": 0.7})
    predicted(m, "p4", "cold")
    predicted(m, "p5", True)
    s = m.stats("test-model")
    assert s is not None and s.outcomes == 0 and s.accuracy is None and s.mae is None
    m.record_outcome("p1", "hot")
    m.record_outcome("p2", {"risk": "low"})  # an actual in the prediction's own shape works too
    m.record_outcome("p3", "positive")
    m.record_outcome("p4", "hot")
    outcome = m.record_outcome("p5", True)
    assert outcome.kind == "label" and outcome.correct is True
    s = m.stats("test-model")
    assert s is not None
    assert s.outcomes == 5
    assert s.accuracy == pytest.approx(60)  # p1, p3, p5 right; percent like the other rates
    assert s.mae is None


def test_numeric_predictions_give_mae() -> None:
    m = monitor()
    predicted(m, "r1", 100.0)
    predicted(m, "r2", {"value": 50})
    predicted(m, "r3", {"probability": 0.8})
    m.record_outcome("r1", 90)
    m.record_outcome("r2", 56.5)
    m.record_outcome("r3", 1)
    s = m.stats("test-model")
    assert s is not None
    assert s.outcomes == 3 and s.accuracy is None
    assert s.mae == pytest.approx((10 + 6.5 + 0.2) / 3)


def test_kind_overrides_the_guess() -> None:
    m = monitor()
    predicted(m, "c1", 1)  # an integer class label
    predicted(m, "c2", 0)
    m.record_outcome("c1", 1, kind="label")
    m.record_outcome("c2", 1, kind="label")
    s = m.stats("test-model")
    assert s is not None and s.accuracy == 50 and s.mae is None
    predicted(m, "c3", "7")
    with pytest.raises(ValidationError, match="prediction_id: expected a prediction with a numeric value"):
        m.record_outcome("c3", 7, kind="value")
    with pytest.raises(ValidationError, match="actual: expected a number"):
        m.record_outcome("c1", "one", kind="value")
    with pytest.raises(ValidationError, match="kind: expected one of label, value"):
        m.record_outcome("c1", 1, kind="class")


def test_reporting_again_corrects_the_outcome() -> None:
    m = monitor(max_outcomes=2)
    predicted(m, "p1", "hot")
    m.record_outcome("p1", "cold")
    assert m.stats("test-model").accuracy == 0  # type: ignore[union-attr]
    predicted(m, "p2", "x")
    predicted(m, "p3", "y")  # p1 leaves the pending map...
    m.record_outcome("p1", "hot")  # ...but its outcome can still be corrected
    s = m.stats("test-model")
    assert s is not None and s.outcomes == 1 and s.accuracy == 100


def test_unknown_failed_and_forgotten_ids_are_errors_naming_the_id() -> None:
    m = monitor(max_outcomes=3)
    with pytest.raises(ValidationError, match=r"prediction_id: expected the id of a successful prediction.*got 'nope'"):
        m.record_outcome("nope", 1)
    m.record(event(prediction_id="failed-1", success=False))
    with pytest.raises(ValidationError, match="failed-1"):
        m.record_outcome("failed-1", 1)
    for i in range(4):
        predicted(m, f"p{i}", "a")
    with pytest.raises(ValidationError, match="the newest 3 are kept"):
        m.record_outcome("p0", "a")  # the oldest was forgotten: the map is bounded
    m.record_outcome("p1", "a")
    with pytest.raises(ValidationError, match="prediction_id: expected a non-empty string"):
        m.record_outcome("", "a")


def test_non_finite_actuals_are_rejected() -> None:
    m = monitor()
    predicted(m, "p", 3.0)
    for bad in (math.nan, math.inf, 10**400):  # 10**400: review regression, raised OverflowError
        with pytest.raises(ValidationError, match="actual: expected a finite number"):
            m.record_outcome("p", bad)
    assert m.stats("test-model").outcomes == 0  # type: ignore[union-attr]


def test_prediction_beyond_float_range_is_a_validation_error() -> None:
    """Review regression: a huge int prediction made ``record_outcome`` raise OverflowError."""
    m = monitor()
    predicted(m, "p", 10**400)
    with pytest.raises(ValidationError, match="prediction_id"):
        m.record_outcome("p", 1.0, kind="value")


def test_outcomes_follow_the_window_and_variant_of_their_prediction() -> None:
    clock = Clock(T0)
    m = monitor(clock)
    predicted(m, "old", "a", timestamp=T0 - 500, variant="champion")
    predicted(m, "new", "a", timestamp=T0 - 5, variant="challenger")
    m.record_outcome("old", "b")
    m.record_outcome("new", "a")
    assert m.stats("test-model").accuracy == 50  # type: ignore[union-attr]
    assert m.stats("test-model", window_s=60).accuracy == 100  # type: ignore[union-attr]
    assert m.stats("test-model", variant="champion").accuracy == 0  # type: ignore[union-attr]
    m.clear("test-model")
    with pytest.raises(ValidationError):
        m.record_outcome("new", "a")


def test_outcome_bound_keeps_the_newest_scored_outcomes() -> None:
    m = monitor(max_outcomes=10)
    for i in range(25):
        predicted(m, f"p{i}", "a")
        m.record_outcome(f"p{i}", "a" if i >= 20 else "b")
    s = m.stats("test-model")
    assert s is not None
    assert s.outcomes == 10 and s.accuracy == 50  # p15..p24: five wrong, five right


def test_outcomes_through_ai_cloud() -> None:
    from hotcrm_ai.cloud import AICloud

    plugin = Plugin(providers={"test-logit": LogitProvider}, models=[logit_model()])
    ai = AICloud(Settings(), plugins=[plugin], load_entrypoints=False)
    try:
        results = [ai.predict("logit-v1", {"x1": x, "x2": 0.5, "x3": -1.0}, use_cache=False) for x in (-2.0, 0.0, 3.0)]
        for r in results:
            ai.record_outcome(r.prediction_id, 1)
        s = ai.monitor.stats("logit-v1")
        assert s is not None and s.total == 3 and s.outcomes == 3
        expected = sum(1 - r.prediction["probability"] for r in results) / 3
        assert s.mae == pytest.approx(expected)
        with pytest.raises(ValidationError, match="prediction_id"):
            ai.record_outcome("not-a-prediction", 1)
    finally:
        ai.close()
