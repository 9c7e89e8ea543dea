"""The provider as the explainer sees it: every scoring call through the same retries and circuit
breaker as a prediction, so an explanation neither hammers a failing provider nor fails on one
transient error that a prediction would have retried."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from hotcrm_ai.prediction.resilience import CircuitBreaker, RetryPolicy, call_with_retries
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.types import HealthReport, ModelConfig, PredictionInput, PredictionOutput

if TYPE_CHECKING:
    from hotcrm_ai.interfaces import Attribution, LinearModel
    from hotcrm_ai.monitor.monitor import PerformanceMonitor
    from hotcrm_ai.types import Explanation

T = TypeVar("T")
R = TypeVar("R")


class GuardedProvider(BaseMLProvider):
    """Delegates to ``inner``; ``predict`` and ``batch_predict`` go through ``call_with_retries`` with
    the pool's breaker for ``inner``'s configuration. ``calls`` counts the scoring calls made."""

    def __init__(
        self,
        inner: BaseMLProvider,
        breaker: CircuitBreaker,
        policy: RetryPolicy,
        *,
        rng: random.Random,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(inner.config)
        self.inner = inner
        self.name = inner.name  # type: ignore[misc]
        self.native_batch = inner.native_batch  # type: ignore[misc]
        self._breaker, self._policy, self._rng, self._sleep = breaker, policy, rng, sleep
        self.calls = 0

    def _guarded(self, fn: Callable[[], T]) -> T:
        self.calls += 1
        result, _attempts = call_with_retries(fn, self._policy, breaker=self._breaker, rng=self._rng, sleep=self._sleep)
        return result

    def validate(self) -> bool:
        return self.inner.validate()

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        return self._guarded(lambda: self.inner.predict(model, inp))

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        return self._guarded(lambda: self.inner.batch_predict(model, inputs))

    def batches_natively(self, model: ModelConfig) -> bool:
        return self.inner.batches_natively(model)

    def health_check(self, model: ModelConfig | None = None) -> HealthReport:
        return self.inner.health_check(model)

    def problems(self, model: ModelConfig | None = None) -> list[str]:
        return self.inner.problems(model)

    def linear_model(self, model: ModelConfig) -> LinearModel | None:
        return self.inner.linear_model(model)

    def attribution(self, model: ModelConfig, features: Mapping[str, Any]) -> Attribution | None:
        return self._guarded(lambda: self.inner.attribution(model, features))

    def __repr__(self) -> str:
        return f"GuardedProvider({self.inner!r})"


def counted(
    monitor: PerformanceMonitor,
    model: ModelConfig,
    provider: GuardedProvider,
    explain: Callable[[], R],
    *,
    parts: Callable[[R], Sequence[Explanation]] = lambda exp: (exp,),  # type: ignore[assignment, return-value]
) -> R:
    """Run ``explain`` and count it in the monitor's explanation counters (not its prediction events):
    each explanation in its result (``parts``: two for a comparison), the scoring calls ``provider``
    made and the evaluations the explanations report. A failure counts too, with the calls it made
    before failing."""
    try:
        result = explain()
    except Exception:
        monitor.record_explanation(model.id, None, provider_calls=provider.calls, failed=True)
        raise
    done = parts(result)
    monitor.record_explanation(
        model.id,
        done[0].method if done else None,
        provider_calls=provider.calls,
        evaluations=sum(e.evaluations for e in done),
        rows=len(done),
    )
    return result
