"""One event per call, always: concurrent identical requests share one flight (one provider call),
and every caller still records its own outcome (issue: coalesced callers recorded nothing)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from support.providers import FlakyProvider, LogitProvider, Plugin, logit_model

from hotcrm_ai import AICloud, ProviderConfig
from hotcrm_ai.config import PredictionSettings, Settings
from hotcrm_ai.errors import PredictionError
from hotcrm_ai.types import PredictionResult

N = 12
ROW = {"x1": 1.0, "x2": 2.0, "x3": 3.0}
DELAY_S = 0.4  # long enough that every caller joins the leader's flight


class SlowFlaky(FlakyProvider):
    """Fails (when ``down``) only after a delay, so concurrent callers wait on one failing call."""

    name = "slow-flaky"

    def predict(self, model: Any, inp: Any) -> Any:
        time.sleep(DELAY_S)
        return super().predict(model, inp)


def cloud(*models: Any, stale_s: float = 0.0) -> AICloud:
    plugin = Plugin({"test-logit": LogitProvider, "slow-flaky": SlowFlaky}, models)
    settings = Settings(
        prediction=PredictionSettings(retries=0, breaker_failure_threshold=1000, stale_if_error_s=stale_s),
        providers={
            "slow-flaky": ProviderConfig(provider="slow-flaky", config={"failure_rate": 0.0}),
            "test-logit": ProviderConfig(provider="test-logit", config={"delay_s": DELAY_S}),
        },
    )
    ai = AICloud(settings, plugins=[plugin], load_entrypoints=False)
    ai.test_plugin = plugin  # type: ignore[attr-defined]
    return ai


def storm(fn: Callable[[], PredictionResult]) -> list[PredictionResult | BaseException]:
    barrier = threading.Barrier(N)
    out: list[PredictionResult | BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait()
        try:
            res: PredictionResult | BaseException = fn()
        except BaseException as exc:
            res = exc
        with lock:
            out.append(res)

    threads = [threading.Thread(target=work) for _ in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def flaky(ai: AICloud) -> SlowFlaky:
    return next(p for p in ai.test_plugin.instances if isinstance(p, SlowFlaky))  # type: ignore[attr-defined]


def test_success_one_event_per_caller() -> None:
    ai = cloud(logit_model())
    results = storm(lambda: ai.predict("logit-v1", ROW))
    assert all(isinstance(r, PredictionResult) and not r.degraded for r in results)
    assert ai.cache.stats().single_flight_shared >= 1
    assert ai.test_plugin.instances[0].calls < N  # type: ignore[attr-defined]
    stats = ai.monitor.stats("logit-v1")
    assert stats is not None and (stats.total, stats.successes, stats.failures) == (N, N, 0)


def test_provider_failure_with_fallback_records_failure_and_fallback_per_caller() -> None:
    ai = cloud(logit_model("flaky-v1", provider="slow-flaky", fallback_model_id="logit-v1"), logit_model())
    ai.predict("logit-v1", {"x1": 9.0, "x2": 9.0, "x3": 9.0})  # builds the logit provider; 1 event
    ai.provider_for("flaky-v1").down = True  # type: ignore[attr-defined]
    results = storm(lambda: ai.predict("flaky-v1", ROW))
    assert all(isinstance(r, PredictionResult) and r.degraded and r.model_id == "logit-v1" for r in results)
    assert flaky(ai).calls < N and ai.cache.stats().single_flight_shared >= 1
    failing, fallback = ai.monitor.stats("flaky-v1"), ai.monitor.stats("logit-v1")
    assert failing is not None and fallback is not None
    assert (failing.total, failing.failures, failing.degraded) == (N, N, N)
    assert (fallback.total, fallback.successes, fallback.degraded) == (1 + N, 1 + N, N)


def test_stale_answer_records_one_degraded_failure_per_caller() -> None:
    ai = cloud(logit_model("flaky-v1", provider="slow-flaky", cache_ttl_s=0.2), stale_s=60.0)
    first = ai.predict("flaky-v1", ROW)
    time.sleep(0.3)
    flaky(ai).down = True
    results = storm(lambda: ai.predict("flaky-v1", ROW))
    assert all(isinstance(r, PredictionResult) and r.degraded and r.cached for r in results)
    assert all(r.prediction == first.prediction for r in results if isinstance(r, PredictionResult))
    assert flaky(ai).calls < 1 + N and ai.cache.stats().single_flight_shared >= 1
    stats = ai.monitor.stats("flaky-v1")
    assert stats is not None
    assert (stats.total, stats.successes, stats.failures, stats.degraded) == (1 + N, 1, N, N)


def test_no_fallback_every_caller_raises_and_records_its_failure() -> None:
    ai = cloud(logit_model("flaky-v1", provider="slow-flaky"))
    ai.provider_for("flaky-v1").down = True  # type: ignore[attr-defined]
    results = storm(lambda: ai.predict("flaky-v1", ROW))
    assert all(isinstance(r, PredictionError) for r in results)
    assert flaky(ai).calls < N and ai.cache.stats().single_flight_shared >= 1
    stats = ai.monitor.stats("flaky-v1")
    assert stats is not None and (stats.total, stats.failures) == (N, N)


@pytest.mark.parametrize("fallback", [False, True])
def test_fallback_that_fails_too_is_recorded_per_caller(fallback: bool) -> None:
    models = [logit_model("flaky-v1", provider="slow-flaky", fallback_model_id="flaky-b" if fallback else None)]
    if fallback:
        models.append(logit_model("flaky-b", provider="slow-flaky"))
    ai = cloud(*models)
    ai.provider_for("flaky-v1").down = True  # type: ignore[attr-defined]
    results = storm(lambda: ai.predict("flaky-v1", ROW))
    assert all(isinstance(r, PredictionError) for r in results)
    if fallback:
        stats_b = ai.monitor.stats("flaky-b")
        assert stats_b is not None and (stats_b.total, stats_b.failures) == (N, N)
