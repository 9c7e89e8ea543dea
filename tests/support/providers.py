"""Test providers registered through real plugin hooks (third-party plugins in miniature).

They compute real answers (a logistic model in numpy); ``FlakyProvider`` fails a seeded fraction of
calls with retryable server errors, so the service's retries, breaker and fallback are exercised on
real code paths.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hotcrm_ai import (
    BaseMLProvider,
    FeatureSpec,
    HealthReport,
    ModelConfig,
    PredictionInput,
    PredictionOutput,
    ProviderConfig,
    ProviderSpec,
    hookimpl,
)
from hotcrm_ai.errors import ProviderServerError

WEIGHTS = np.array([0.8, -0.5, 0.3])
FEATURES = ("x1", "x2", "x3")


def logit_features() -> tuple[FeatureSpec, ...]:
    return tuple(FeatureSpec(name=n, dtype="number", minimum=-1e6, maximum=1e6) for n in FEATURES)


def score(rows: Sequence[dict[str, Any]], bias: float = 0.0) -> np.ndarray:
    x = np.array([[r[n] for n in FEATURES] for r in rows], dtype=float)
    return 1.0 / (1.0 + np.exp(-(x @ WEIGHTS + bias)))


def output(p: float) -> PredictionOutput:
    return PredictionOutput(prediction={"probability": float(p)}, confidence=abs(p - 0.5) * 200)


class LogitProvider(BaseMLProvider):
    """A real (tiny) logistic model; ``config['bias']`` shifts it so two providers answer differently."""

    name = "test-logit"
    native_batch = True

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.bias = float(config.config.get("bias", 0.0))
        self.calls = 0
        self.batch_calls = 0
        self.delay_s = float(config.config.get("delay_s", 0.0))
        self._lock = threading.Lock()

    def validate(self) -> bool:
        return True

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        with self._lock:
            self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        return output(score([inp.features], self.bias)[0])

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        with self._lock:
            self.batch_calls += 1
        if not inputs:
            return []
        return [output(p) for p in score([i.features for i in inputs], self.bias)]

    def health_check(self, model: ModelConfig | None = None) -> HealthReport:
        return HealthReport(healthy=True, latency_ms=0.0)


class FlakyProvider(LogitProvider):
    """Fails ``config['failure_rate']`` of calls (seeded) with a retryable ProviderServerError."""

    name = "test-flaky"
    native_batch = False

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.failure_rate = float(config.config.get("failure_rate", 0.3))
        self.rng = random.Random(config.config.get("seed", 7))
        self.failures = 0
        self.down = bool(config.config.get("down", False))

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        with self._lock:
            self.calls += 1
            fail = self.down or self.rng.random() < self.failure_rate
            if fail:
                self.failures += 1
        if fail:
            raise ProviderServerError("stand-in server error 503", provider=self.name, status=503)
        return output(score([inp.features], self.bias)[0])


class Plugin:
    """A plugin object (what an entry point would load), built from providers and models."""

    def __init__(
        self,
        providers: dict[str, Callable[[ProviderConfig], BaseMLProvider]] | None = None,
        models: Sequence[ModelConfig] = (),
        name: str = "test-plugin",
    ) -> None:
        self._providers = providers or {}
        self._models = list(models)
        self.__name__ = name
        self.instances: list[BaseMLProvider] = []

    def _track(self, factory: Callable[[ProviderConfig], BaseMLProvider]) -> Callable[[ProviderConfig], BaseMLProvider]:
        def build(config: ProviderConfig) -> BaseMLProvider:
            instance = factory(config)
            self.instances.append(instance)
            return instance

        return build

    @hookimpl
    def register_providers(self, register: Callable[[Any], None]) -> None:
        for name, factory in self._providers.items():
            register(ProviderSpec(name=name, factory=self._track(factory)))

    @hookimpl
    def register_models(self, register: Callable[[Any], None]) -> None:
        for model in self._models:
            register(model)


def logit_model(model_id: str = "logit-v1", provider: str = "test-logit", **kw: Any) -> ModelConfig:
    return ModelConfig(
        id=model_id,
        name=model_id,
        type="classification",
        provider=provider,
        features=logit_features(),
        explain_output="probability",
        **kw,
    )
