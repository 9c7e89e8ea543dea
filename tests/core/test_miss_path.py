"""The lone leader's miss path builds what the general constructors build: results and provider
inputs made without a setattr per field, events recorded as rows, the flight run inline, and the
provider's first attempt made outside the retry loop with the breaker hearing one outcome."""

from __future__ import annotations

import copy
import gc
import math
import pickle
import threading
from typing import Any

import attrs
import pytest
from support.providers import LogitProvider, Plugin, logit_model

from hotcrm_ai import AICloud, PredictionInput, PredictionOutput
from hotcrm_ai.cache.singleflight import SingleFlight
from hotcrm_ai.config import PredictionSettings, Settings
from hotcrm_ai.errors import ProviderServerError
from hotcrm_ai.monitor import EventStore, PerformanceMonitor
from hotcrm_ai.prediction.breaker import BreakerConfig, CircuitBreaker
from hotcrm_ai.prediction.resilience import RetryPolicy, call_with_retries, retry_after_failure
from hotcrm_ai.types import PredictionEvent, PredictionResult, served_result, validated_input

_RESULT_ARGS: tuple[Any, ...] = (
    {"label": "hot", "probability": 0.75},
    75.0,
    "m",
    "1.0.0",
    "m-requested",
    "challenger",
    False,
    True,
    "fallback",
    1.25,
    "ab" * 16,
    {"provider": "p", "usage": {"tokens": 3}},
    None,
)


def test_a_served_result_is_the_constructors_result() -> None:
    built, made = served_result(*_RESULT_ARGS), PredictionResult(*_RESULT_ARGS)
    assert type(built) is PredictionResult and built == made and repr(built) == repr(made)
    assert attrs.asdict(built) == attrs.asdict(made)
    assert built.error is None and built.exception is None and built.ok
    for twin in (pickle.loads(pickle.dumps(built)), copy.copy(built), copy.deepcopy(built)):
        assert twin == made and type(twin) is PredictionResult
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.prediction = 1  # type: ignore[misc]
    assert attrs.evolve(built, cached=True) == attrs.evolve(made, cached=True)


def test_a_validated_input_is_the_constructors_input_with_its_own_copies() -> None:
    features, ctx = {"x1": 1.0, "x2": 2.0}, {"tenant": "acme"}
    built = validated_input(features, ctx)
    made = PredictionInput(features, ctx, validated=True)
    assert type(built) is PredictionInput and built == made and repr(built) == repr(made)
    assert pickle.loads(pickle.dumps(built)) == made
    assert built.features is not features and built.context is not ctx  # copied, as the converters copy
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.validated = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("confidence", "metadata", "expected"),
    [
        (50.0, None, (50.0, {})),
        (0.0, {"a": 1}, (0.0, {"a": 1})),
        (100, None, (100.0, {})),  # an int goes through the converter: a float
        (True, None, ValueError),
        (150.0, None, ValueError),
        (math.nan, None, ValueError),
        (-0.5, None, ValueError),
        ("5", None, ValueError),
    ],
)
def test_a_provider_output_checks_its_confidence_as_before(confidence: Any, metadata: Any, expected: Any) -> None:
    if expected is ValueError:
        with pytest.raises(ValueError, match="confidence"):
            PredictionOutput(1.0, confidence, metadata)
        return
    out = PredictionOutput(1.0, confidence, metadata)
    assert (out.confidence, out.metadata) == expected and type(out.confidence) is float
    assert out == PredictionOutput(prediction=1.0, confidence=expected[0], metadata=expected[1])
    if metadata is not None:
        assert out.metadata is not metadata


def test_a_row_is_stored_remembered_and_read_back_as_its_event() -> None:
    monitor = PerformanceMonitor([EventStore()])
    event = PredictionEvent("m", "m", "1", 2.0, 1.5, True, 60.0, prediction=0.25, prediction_id="id-1", tenant="t")
    row = attrs.astuple(event, recurse=False)
    row = (*row[:16], None, *row[17:])  # no usage: None in the row, {} in the event
    monitor.record_checked_row(row)
    assert monitor.store.events("m") == [event]
    assert monitor.record_outcome("id-1", 0.5).abs_error == 0.25
    gc.collect()
    assert not gc.is_tracked(row)  # strings and numbers only: the collector does not walk it


def test_a_row_reaches_every_sink_as_an_event() -> None:
    seen: list[PredictionEvent] = []

    class Sink:
        name = "list"

        def record(self, event: PredictionEvent) -> None:
            seen.append(event)

        def close(self) -> None:
            pass

    monitor = PerformanceMonitor([EventStore(), Sink()])
    event = PredictionEvent("m", "m", "1", 2.0, 1.5, True, prediction_id="id-2")
    monitor.record_checked_row(attrs.astuple(event, recurse=False))
    assert seen == [event] and monitor.store.events("m") == [event]


def test_single_predictions_record_rows_that_read_back_as_the_results() -> None:
    ai = AICloud(Settings(), plugins=[Plugin({"test-logit": LogitProvider}, (logit_model(),))], load_entrypoints=False)
    results = [
        ai.predict("logit-v1", {"x1": float(i), "x2": 1.0, "x3": -1.0}, context={"tenant": "t"}) for i in range(3)
    ]
    results.append(ai.predict("logit-v1", {"x1": 0.0, "x2": 1.0, "x3": -1.0}, context={"tenant": "t"}))  # a hit
    events = ai.monitor.store.events("logit-v1")
    assert [e.prediction_id for e in events] == [r.prediction_id for r in results]
    assert [(e.cached, e.tenant, e.usage, e.prediction) for e in events] == [
        (r.cached, "t", {}, r.prediction) for r in results
    ]
    assert results[-1].cached and not any(r.cached for r in results[:3])
    assert ai.monitor.stats("logit-v1").total == 4  # type: ignore[union-attr]
    ai.close()


def test_an_inline_leader_hands_its_value_and_its_error_to_followers() -> None:
    flights: SingleFlight[str] = SingleFlight()
    assert flights.join("k") is None  # the leader
    follower = flights.join("k")
    assert follower is not None and flights.join("k") is follower
    got: list[Any] = []
    thread = threading.Thread(target=lambda: got.append(flights.follow(follower, lambda: "own", None)))
    thread.start()
    flights.finish("k", "shared value", None)
    thread.join(5)
    assert got == [("shared value", True)] and flights.in_flight() == 0

    assert flights.join("k") is None
    failing = flights.join("k")
    assert failing is not None
    flights.finish("k", None, KeyError("boom"))
    with pytest.raises(KeyError, match="boom"):
        flights.follow(failing, lambda: "own", None)


def test_retries_after_an_inline_first_attempt_report_one_outcome() -> None:
    breaker = CircuitBreaker("p", BreakerConfig(min_calls=2, window=10, failure_rate=50.0, failure_threshold=0))
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ProviderServerError("503", provider="p", status=503)
        return "ok"

    ticket = breaker.before_call()
    try:
        flaky()
    except ProviderServerError as exc:
        got = retry_after_failure(
            flaky, RetryPolicy(retries=2), exc, breaker=breaker, ticket=ticket, sleep=lambda s: None
        )
    assert got == ("ok", 3) and breaker.failure_rate() == 0.0 and breaker.state == "closed"

    ticket = breaker.before_call()
    broken = RuntimeError("provider bug")  # not retryable: raised at once, counted once against the provider
    with pytest.raises(RuntimeError):
        retry_after_failure(flaky, RetryPolicy(retries=5), broken, breaker=breaker, ticket=ticket, sleep=lambda s: None)
    assert len(attempts) == 3 and breaker.state == "open"  # 1 of 2 calls failed: 50%
    assert call_with_retries(lambda: "x", RetryPolicy(), breaker=CircuitBreaker("q")) == ("x", 1)


def test_a_provider_that_fails_then_answers_is_retried_on_the_miss_path() -> None:
    calls: list[int] = []

    class Flaky(LogitProvider):
        name = "test-logit"

        def predict(self, model: Any, inp: PredictionInput) -> PredictionOutput:
            calls.append(1)
            if len(calls) == 1:
                raise ProviderServerError("503", provider=self.name, status=503)
            return super().predict(model, inp)

    settings = Settings(prediction=PredictionSettings(retries=2, backoff_base_s=0.0))
    ai = AICloud(settings, plugins=[Plugin({"test-logit": Flaky}, (logit_model(),))], load_entrypoints=False)
    result = ai.predict("logit-v1", {"x1": 1.0, "x2": 1.0, "x3": -1.0})
    assert len(calls) == 2 and not result.degraded and not result.cached
    breaker = next(iter(ai.providers._breakers.values()))
    assert breaker.failure_rate() == 0.0  # one call, one (successful) outcome
    ai.close()
