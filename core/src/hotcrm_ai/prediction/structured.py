"""Structured-output calls to a registered model, for features that need "whichever chat model the
deployment configured" rather than a prediction (the ``llm`` query translator).

The call goes through the same provider instance, circuit breaker and retry policy as predictions, and
is recorded in the monitor as an event of that model, usage (tokens, cache tokens, cost) included, so
the monitor's per-model sums cover translation traffic too. Not cached: the prompts carry dates and
catalogue values that change.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hotcrm_ai.errors import ModelInactiveError, PredictionError
from hotcrm_ai.prediction.resilience import RetryPolicy, call_with_retries
from hotcrm_ai.types import PredictionEvent, PredictionOutput

if TYPE_CHECKING:
    from hotcrm_ai.config import PredictionSettings
    from hotcrm_ai.monitor.monitor import PerformanceMonitor
    from hotcrm_ai.prediction.providers import ProviderPool
    from hotcrm_ai.registry import ModelRegistry


class StructuredCalls:
    """``complete_structured(model_id, ...)`` over the registry's models and the shared provider pool."""

    def __init__(
        self,
        registry: ModelRegistry,
        providers: ProviderPool,
        monitor: PerformanceMonitor,
        settings: PredictionSettings,
    ) -> None:
        self.registry = registry
        self.providers = providers
        self.monitor = monitor
        self.policy = RetryPolicy(settings.retries, settings.backoff_base_s, settings.backoff_max_s)
        self._rng = random.Random()

    def complete_structured(
        self,
        model_id: str,
        *,
        system: str,
        user: str,
        schema: Mapping[str, Any],
        cache_system: bool = False,
    ) -> PredictionOutput:
        """The model's provider answers with a JSON object matching ``schema`` (see
        ``BaseMLProvider.complete_structured``); retryable failures are retried per ``[prediction]``."""
        model = self.registry.get(model_id)
        if model.status != "active":
            raise ModelInactiveError(model.id, model.status)
        provider, breaker = self.providers.get(model)
        start = time.perf_counter()
        try:
            output, _ = call_with_retries(
                lambda: provider.complete_structured(
                    model, system=system, user=user, schema=schema, cache_system=cache_system
                ),
                self.policy,
                breaker=breaker,
                rng=self._rng,
            )
            if not isinstance(output, PredictionOutput) or not isinstance(output.prediction, Mapping):
                raise PredictionError(
                    f"provider {model.provider}: complete_structured returned {type(output).__name__}, "
                    "expected a PredictionOutput whose prediction is a JSON object",
                    model_id=model.id,
                )
        except Exception as exc:
            self._record(model.id, model.version, model.provider, start, None, exc)
            raise
        self._record(model.id, model.version, model.provider, start, output, None)
        return output

    def _record(
        self,
        model_id: str,
        version: str,
        provider: str,
        start: float,
        output: PredictionOutput | None,
        error: BaseException | None,
    ) -> None:
        usage = output.metadata.get("usage") if output is not None else None
        if usage is None and error is not None:  # a refused answer still cost tokens
            usage = getattr(error, "details", {}).get("usage")
        event = PredictionEvent(
            model_id=model_id,
            requested_model_id=model_id,
            model_version=version,
            timestamp=time.time(),
            latency_ms=(time.perf_counter() - start) * 1000.0,
            success=error is None,
            provider=provider,
            error=str(error)[:500] if error is not None else None,
            error_type=type(error).__name__ if error is not None else None,
            usage={k: v for k, v in usage.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            if isinstance(usage, Mapping)
            else {},
        )
        try:
            self.monitor.record(event)
        except Exception:  # recording never fails the call
            pass
