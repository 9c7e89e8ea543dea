"""Explanation scoring goes through the same provider instance, retries and breaker as predictions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from support.providers import LogitProvider, Plugin, logit_model

from hotcrm_ai import AICloud, ModelConfig, PredictionInput, PredictionOutput, ProviderConfig
from hotcrm_ai.config import PredictionSettings, Settings
from hotcrm_ai.errors import CircuitOpenError, ProviderServerError

ROW = {"x1": 1.0, "x2": 2.0, "x3": 3.0}


class BlipProvider(LogitProvider):
    """Its batch scoring fails with a retryable 503 on the calls listed in ``config['fail_calls']``."""

    name = "blip"

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.fail_calls = set(config.config.get("fail_calls", ()))
        self.down = False

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        self.batch_calls += 1
        if self.down or self.batch_calls in self.fail_calls:
            raise ProviderServerError("stand-in 503", provider=self.name, status=503)
        return super().batch_predict(model, inputs)


def cloud(**prediction: Any) -> AICloud:
    settings = Settings(
        prediction=PredictionSettings(backoff_base_s=0.0005, backoff_max_s=0.001, **prediction),
        providers={"blip": ProviderConfig(provider="blip", config={"fail_calls": [1]})},
    )
    plugin = Plugin({"blip": BlipProvider}, [logit_model("blip-v1", provider="blip", explainer="exact")])
    return AICloud(settings, plugins=[plugin], load_entrypoints=False)


def test_a_transient_failure_while_explaining_is_retried() -> None:
    ai = cloud(retries=2)
    explanation = ai.explain("blip-v1", ROW)
    provider = ai.provider_for("blip-v1")
    assert provider.batch_calls >= 2  # type: ignore[attr-defined]  # the first call failed, then retried
    assert explanation.base_value + sum(c.contribution for c in explanation.contributions) == pytest.approx(
        explanation.output_value
    )


def test_explaining_a_down_provider_opens_its_breaker() -> None:
    ai = cloud(retries=0, breaker_failure_threshold=2, breaker_reset_s=60)
    provider = ai.provider_for("blip-v1")
    provider.down = True  # type: ignore[attr-defined]
    for _ in range(2):
        with pytest.raises(ProviderServerError):
            ai.explain("blip-v1", ROW)
    calls = provider.batch_calls  # type: ignore[attr-defined]
    with pytest.raises(CircuitOpenError):
        ai.explain("blip-v1", ROW)
    assert provider.batch_calls == calls  # the open breaker spared the provider  # type: ignore[attr-defined]
    assert set(ai.providers.breakers().values()) == {"open"}
