"""The prediction pipeline end to end through AICloud, with test providers registered through hooks.

Reliability cases from the issue: random provider failures with a fallback model, circuit breaker
open/close, exact monitor totals under threads, hypothesis payloads never reaching the cache.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.providers import FlakyProvider, LogitProvider, Plugin, logit_model, score

from hotcrm_ai import ABTest, AICloud, ModelConfig, ProviderConfig
from hotcrm_ai.config import CacheSettings, PredictionSettings, Settings
from hotcrm_ai.errors import (
    CircuitOpenError,
    ModelInactiveError,
    ModelNotFoundError,
    PredictionError,
    ValidationError,
)

ROW = {"x1": 1.0, "x2": 2.0, "x3": 3.0}
FAST = PredictionSettings(retries=2, backoff_base_s=0.0005, backoff_max_s=0.002, breaker_failure_threshold=1000)


def cloud(
    *models: ModelConfig,
    providers: dict[str, Any] | None = None,
    prediction: PredictionSettings = FAST,
    provider_configs: dict[str, ProviderConfig] | None = None,
    cache: CacheSettings | None = None,
) -> AICloud:
    plugin = Plugin(providers or {"test-logit": LogitProvider, "test-flaky": FlakyProvider}, models)
    s = Settings(prediction=prediction, providers=provider_configs or {}, cache=cache or CacheSettings())
    ai = AICloud(s, plugins=[plugin], load_entrypoints=False)
    ai.test_plugin = plugin  # type: ignore[attr-defined]
    return ai


def test_predict_then_cache_hit() -> None:
    ai = cloud(logit_model())
    first = ai.predict("logit-v1", ROW, context={"tenant": "acme"})
    assert first.prediction["probability"] == pytest.approx(score([ROW])[0])
    assert not first.cached and first.model_version == "1.0.0" and first.prediction_id
    second = ai.predict("logit-v1", dict(reversed(ROW.items())), context={"tenant": "acme"})
    assert second.cached and second.prediction == first.prediction and second.confidence == first.confidence
    assert ai.predict("logit-v1", ROW, context={"tenant": "acme"}, use_cache=False).cached is False
    other_tenant = ai.predict("logit-v1", ROW, context={"tenant": "globex"})
    assert not other_tenant.cached
    stats = ai.monitor.stats("logit-v1")
    assert stats.total == 4 and stats.cached == 1


def test_ttl_zero_never_caches() -> None:
    ai = cloud(logit_model(cache_ttl_s=0))
    ai.predict("logit-v1", ROW)
    assert not ai.predict("logit-v1", ROW).cached


def test_errors_name_model_and_status_and_are_recorded() -> None:
    ai = cloud(logit_model(), logit_model("old-v1", status="deprecated"))
    with pytest.raises(ModelNotFoundError, match="Model not found: ghost"):
        ai.predict("ghost", ROW)
    with pytest.raises(ModelInactiveError, match=r"old-v1 \(status: deprecated\)"):
        ai.predict("old-v1", ROW)
    with pytest.raises(ValidationError, match="x1: expected a number"):
        ai.predict("logit-v1", {**ROW, "x1": "one"})
    assert ai.monitor.stats("old-v1").failures == 1
    assert ai.monitor.stats("logit-v1").failures == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(
        st.sampled_from(["x1", "x2", "x3", "x4"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.text(max_size=5),
            st.floats(allow_nan=True),
            st.lists(st.integers(), max_size=2),
        ),
    )
)
def test_bad_payloads_only_raise_validation_errors_and_never_cache(payload: dict[str, Any]) -> None:
    ai = HYPO_CLOUD
    before = ai.cache.stats().sets
    try:
        ai.predict("logit-v1", payload)
    except ValidationError:
        assert ai.cache.stats().sets == before
    else:
        assert set(payload) == {"x1", "x2", "x3"}


HYPO_CLOUD = cloud(logit_model())


def test_sticky_ab_split_through_the_service() -> None:
    champion = logit_model(
        "lead-v2", provider_config=ProviderConfig(provider="test-logit", endpoint="v2", config={"bias": 5.0})
    )
    challenger = logit_model(
        "lead-v3", ab_test=ABTest(enabled=True, traffic_percentage=20, champion_model_id="lead-v2")
    )
    ai = cloud(champion, challenger)
    served = [ai.predict("lead-v3", ROW, context={"subject": f"c-{i}"}).model_id for i in range(10_000)]
    share = served.count("lead-v3") / len(served) * 100
    assert abs(share - 20) <= 2
    again = [ai.predict("lead-v3", {**ROW, "x1": 9.0}, context={"subject": f"c-{i}"}).model_id for i in range(300)]
    assert again == served[:300]
    r = ai.predict("lead-v3", ROW, context={"subject": "c-0"})
    assert r.requested_model_id == "lead-v3" and r.variant in ("champion", "challenger")
    assert ai.monitor.stats("lead-v2", variant="champion").total == served.count("lead-v2") + served[:300].count(
        "lead-v2"
    ) + (r.model_id == "lead-v2")


def test_random_failures_with_fallback_model() -> None:
    primary = logit_model("flaky-v1", provider="test-flaky", fallback_model_id="logit-v1", cache_ttl_s=0)
    ai = cloud(
        primary,
        logit_model(),
        provider_configs={
            "test-flaky": ProviderConfig(provider="test-flaky", config={"failure_rate": 0.3, "seed": 11})
        },
        prediction=PredictionSettings(retries=0, breaker_failure_threshold=10_000),
    )
    rng = np.random.default_rng(3)
    degraded = 0
    for _ in range(2000):
        row = dict(zip(("x1", "x2", "x3"), rng.normal(size=3).tolist(), strict=True))
        r = ai.predict("flaky-v1", row)  # never raises: every failure has a fallback
        assert r.prediction["probability"] == pytest.approx(score([row])[0])
        if r.degraded:
            degraded += 1
            assert r.model_id == "logit-v1" and "flaky-v1 failed (ProviderServerError" in r.degraded_reason
        else:
            assert r.model_id == "flaky-v1"
    flaky = ai.test_plugin.instances[0]
    assert 0.25 < degraded / 2000 < 0.35
    s = ai.monitor.stats("flaky-v1")
    assert s.total == 2000 and s.failures == degraded == flaky.failures and s.successes == 2000 - degraded
    assert ai.monitor.stats("logit-v1").total == degraded


def test_retries_recover_transient_failures() -> None:
    ai = cloud(
        logit_model("flaky-v1", provider="test-flaky", cache_ttl_s=0),
        provider_configs={"test-flaky": ProviderConfig(provider="test-flaky", config={"failure_rate": 0.3, "seed": 5})},
        prediction=PredictionSettings(
            retries=6, backoff_base_s=0.0001, backoff_max_s=0.0005, breaker_failure_threshold=10_000
        ),
    )
    for i in range(300):
        assert not ai.predict("flaky-v1", {"x1": i, "x2": 0.0, "x3": 1.0}).degraded


def test_no_fallback_raises_prediction_error_with_cause() -> None:
    ai = cloud(
        logit_model("down-v1", provider="test-flaky"),
        provider_configs={"test-flaky": ProviderConfig(provider="test-flaky", config={"down": True})},
    )
    with pytest.raises(PredictionError, match="no fallback available") as info:
        ai.predict("down-v1", ROW)
    assert type(info.value.cause).__name__ == "ProviderServerError"
    s = ai.monitor.stats("down-v1")
    assert (s.total, s.failures) == (1, 1)
    assert ai.test_plugin.instances[0].calls == 1 + FAST.retries


def test_stale_cached_answer_when_provider_fails() -> None:
    ai = cloud(
        logit_model("flaky-v1", provider="test-flaky", cache_ttl_s=0.05),
        prediction=PredictionSettings(retries=0, stale_if_error_s=60),
        provider_configs={"test-flaky": ProviderConfig(provider="test-flaky", config={"failure_rate": 0.0})},
    )
    fresh = ai.predict("flaky-v1", ROW)
    ai.test_plugin.instances[0].down = True
    time.sleep(0.08)
    stale = ai.predict("flaky-v1", ROW)
    assert stale.degraded and stale.cached and stale.prediction == fresh.prediction
    assert "served a cached answer" in stale.degraded_reason
    s = ai.monitor.stats("flaky-v1")
    assert (s.total, s.successes, s.failures) == (2, 1, 1)


def test_circuit_opens_then_closes() -> None:
    settings_ = PredictionSettings(retries=0, breaker_failure_threshold=3, breaker_reset_s=0.2)
    ai = cloud(
        logit_model("flaky-v1", provider="test-flaky", cache_ttl_s=0),
        prediction=settings_,
        provider_configs={"test-flaky": ProviderConfig(provider="test-flaky", config={"down": True})},
    )
    for _ in range(3):
        with pytest.raises(PredictionError):
            ai.predict("flaky-v1", ROW)
    provider = ai.test_plugin.instances[0]
    with pytest.raises(PredictionError) as info:
        ai.predict("flaky-v1", ROW)
    assert isinstance(info.value.cause, CircuitOpenError)
    assert provider.calls == 3  # the open circuit did not call the provider
    provider.down = False
    time.sleep(0.25)
    assert ai.predict("flaky-v1", ROW).prediction["probability"] == pytest.approx(score([ROW])[0])
    ((identity, state),) = ai.providers.breakers().items()
    assert identity.startswith("test-flaky:") and state == "closed"


def test_exact_monitor_totals_under_threads() -> None:
    ai = cloud(logit_model(cache_ttl_s=0))
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(1000):
                ai.predict("logit-v1", {"x1": t, "x2": i, "x3": 0.5})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    s = ai.monitor.stats("logit-v1")
    assert (s.total, s.successes, s.failures) == (8000, 8000, 0)


def test_single_flight_calls_provider_once_for_concurrent_misses() -> None:
    ai = cloud(
        logit_model(), provider_configs={"test-logit": ProviderConfig(provider="test-logit", config={"delay_s": 0.2})}
    )
    barrier = threading.Barrier(6)
    results: list[Any] = []

    def call() -> None:
        barrier.wait()
        results.append(ai.predict("logit-v1", ROW, context={"tenant": "t"}))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 6 and len({r.prediction["probability"] for r in results}) == 1
    assert ai.test_plugin.instances[0].calls == 1


def test_batch_order_errors_in_place_and_cache_reuse() -> None:
    ai = cloud(logit_model())
    rows = [{"x1": float(i), "x2": 1.0, "x3": -1.0} for i in range(10)]
    rows[4] = {"x1": "bad"}
    out = ai.batch_predict("logit-v1", rows)
    assert len(out) == 10
    assert out[4].error is not None and out[4].error.type == "ValidationError"
    with pytest.raises(ValidationError):
        out[4].raise_for_error()
    for i in (0, 3, 9):
        assert out[i].prediction["probability"] == pytest.approx(score([rows[i]])[0])
    provider = ai.test_plugin.instances[0]
    assert provider.batch_calls == 1 and provider.calls == 0  # one native batch call
    again = ai.batch_predict("logit-v1", [*rows[:3], {"x1": 100.0, "x2": 0.0, "x3": 0.0}])
    assert [r.cached for r in again] == [True, True, True, False]
    assert provider.batch_calls == 2
    assert ai.batch_predict("logit-v1", []) == []
    with pytest.raises(ValidationError):
        ai.batch_predict("logit-v1", {"x1": 1})  # type: ignore[arg-type]


def test_batch_with_failing_rows_uses_fallback_per_row() -> None:
    primary = logit_model("flaky-v1", provider="test-flaky", cache_ttl_s=0)
    ai = cloud(
        primary,
        provider_configs={"test-flaky": ProviderConfig(provider="test-flaky", config={"failure_rate": 0.5, "seed": 1})},
        prediction=PredictionSettings(retries=0, breaker_failure_threshold=0, breaker_failure_rate=0),
    )
    out = ai.batch_predict("flaky-v1", [{"x1": float(i), "x2": 0.0, "x3": 0.0} for i in range(100)])
    failed = [r for r in out if not r.ok]
    assert 30 < len(failed) < 70
    assert all(r.error.type == "PredictionError" for r in failed)
    assert all(
        r.prediction["probability"] == pytest.approx(score([{"x1": float(i), "x2": 0.0, "x3": 0.0}])[0])
        for i, r in enumerate(out)
        if r.ok
    )
    s = ai.monitor.stats("flaky-v1")
    assert s.total == 100 and s.failures == len(failed)


def test_outcomes_feed_accuracy() -> None:
    ai = cloud(logit_model())
    r = ai.predict("logit-v1", ROW)
    ai.record_outcome(r.prediction_id, {"probability": 0.0})
    assert ai.monitor.stats("logit-v1").outcomes == 1


def test_two_clouds_share_nothing() -> None:
    a, b = cloud(logit_model()), cloud(logit_model())
    a.predict("logit-v1", ROW)
    assert not b.predict("logit-v1", ROW).cached
    assert a.monitor.stats("logit-v1").total == 1 and b.monitor.stats("logit-v1").total == 1
    assert a.registry is not b.registry and a.cache is not b.cache


def test_degraded_answers_are_not_cached() -> None:
    primary = logit_model("down-v1", provider="test-flaky", fallback_model_id="logit-v1")
    ai = cloud(
        primary,
        logit_model(),
        provider_configs={"test-flaky": ProviderConfig(provider="test-flaky", config={"down": True})},
    )
    assert ai.predict("down-v1", ROW).degraded
    second = ai.predict("down-v1", ROW)
    assert second.degraded and not second.cached


def test_provider_instances_shared_per_provider_and_endpoint() -> None:
    a = logit_model("a-v1")
    b = logit_model("b-v1")
    c = logit_model("c-v1", provider_config=ProviderConfig(provider="test-logit", endpoint="https://other"))
    ai = cloud(a, b, c)
    assert ai.provider_for("a-v1") is ai.provider_for("b-v1")  # default ProviderConfig(provider=name)
    assert ai.provider_for("c-v1") is not ai.provider_for("a-v1")
    assert ai.provider_for("a-v1").config == ProviderConfig(provider="test-logit")
    with pytest.raises(Exception, match="no provider named 'nope' is installed"):
        ai.registry.register(logit_model("d-v1", provider="nope"))
        ai.predict("d-v1", ROW)


def test_hits_skip_validation_only_for_inputs_that_were_validated() -> None:
    import attrs

    from hotcrm_ai import FeatureSpec

    base = logit_model("opt-v1")
    model = attrs.evolve(
        base, features=(*base.features, FeatureSpec(name="note", dtype="string", required=False, default="n/a"))
    )
    ai = cloud(model)
    first = ai.predict("opt-v1", ROW)  # stored under the key of the request as given (default filled inside)
    assert ai.predict("opt-v1", ROW).cached and ai.predict("opt-v1", ROW).prediction == first.prediction
    for bad in ({**ROW, "x1": float("nan")}, {**ROW, "x1": "1"}, {**ROW, "extra": 1}, [1, 2]):
        with pytest.raises(ValidationError):
            ai.predict("opt-v1", bad)  # type: ignore[arg-type]
    rows = [ROW, {**ROW, "x1": float("nan")}, {**ROW, "x2": 5.0}]
    out = ai.batch_predict("opt-v1", rows)
    assert [r.cached for r in out] == [True, False, False]
    assert out[1].error is not None and out[1].error.type == "ValidationError" and "finite" in out[1].error.message
    assert ai.cache.stats().sets == 2  # the two valid computed answers, never the invalid row


def test_context_tenant_and_subject_must_be_usable_keys() -> None:
    ai = cloud(logit_model())
    for ctx, field in (({"tenant": 42}, "tenant"), ({"tenant": ""}, "tenant"), ({"subject": {"id": 1}}, "subject")):
        with pytest.raises(ValidationError, match=f"Invalid context: {field}"):
            ai.predict("logit-v1", ROW, context=ctx)
        with pytest.raises(ValidationError, match=f"Invalid context: {field}"):
            ai.batch_predict("logit-v1", [ROW], context=ctx)
    assert ai.predict("logit-v1", ROW, context={"tenant": "acme ✓", "subject": 42}).ok


def test_unknown_or_malformed_model_ids_leave_no_monitor_state() -> None:
    ai = cloud(logit_model())
    for i in range(50):
        with pytest.raises(ModelNotFoundError):
            ai.predict(f"ghost-{i}", ROW)
    for bad in (["a"], None, 7, ""):
        with pytest.raises(ValidationError, match="model_id: expected a non-empty string"):
            ai.predict(bad, ROW)  # type: ignore[arg-type]
    assert ai.monitor.model_ids() == []
    with pytest.raises(ModelNotFoundError):
        ai.health("ghost-1")
