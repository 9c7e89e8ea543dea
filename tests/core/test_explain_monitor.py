"""Explanations are counted in the monitor apart from predictions: explanations, failures, the
provider's scoring calls (through the guarded provider) and the evaluations they scored."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from support.providers import LogitProvider, Plugin, logit_model

from hotcrm_ai import AICloud, ModelConfig, PredictionInput, PredictionOutput, ProviderConfig
from hotcrm_ai.config import PredictionSettings, Settings
from hotcrm_ai.errors import ProviderServerError

ROW = {"x1": 1.0, "x2": 2.0, "x3": 3.0}
OTHER = {"x1": -1.0, "x2": 0.5, "x3": 2.0}


class Switchable(LogitProvider):
    """Batch scoring fails with a retryable 503 while ``down``."""

    name = "switchable"

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.down = False

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        if self.down:
            self.batch_calls += 1
            raise ProviderServerError("stand-in 503", provider=self.name, status=503)
        return super().batch_predict(model, inputs)


def cloud() -> AICloud:
    settings = Settings(
        prediction=PredictionSettings(retries=1, backoff_base_s=0.0005, backoff_max_s=0.001),
        providers={"switchable": ProviderConfig(provider="switchable")},
    )
    plugin = Plugin({"switchable": Switchable}, [logit_model("sw-v1", provider="switchable", explainer="exact")])
    return AICloud(settings, plugins=[plugin], load_entrypoints=False)


def test_explanations_are_counted_apart_from_predictions() -> None:
    ai = cloud()
    provider = ai.provider_for("sw-v1")
    assert isinstance(provider, Switchable)
    for _ in range(2):
        ai.predict("sw-v1", ROW, use_cache=False)
    assert ai.monitor.explain_stats("sw-v1") is None

    before = provider.batch_calls
    exp = ai.explain("sw-v1", ROW)
    calls = provider.batch_calls - before
    assert calls >= 1 and exp.evaluations >= 2
    stats = ai.monitor.explain_stats("sw-v1")
    assert stats is not None
    assert (stats.explanations, stats.failures, stats.provider_calls, stats.evaluations) == (
        1,
        0,
        calls,
        exp.evaluations,
    )
    assert stats.methods == {"exact": 1}
    assert ai.stats("sw-v1").total == 2  # type: ignore[union-attr]  # the explanation is not a prediction

    before = provider.batch_calls
    result = ai.predict("sw-v1", OTHER, use_cache=False, explain=True)
    assert result.explanation is not None
    extra = provider.batch_calls - before  # the explanation's coalitions; the prediction went through predict
    stats = ai.monitor.explain_stats("sw-v1")
    assert stats is not None and ai.stats("sw-v1").total == 3  # type: ignore[union-attr]
    assert (stats.explanations, stats.provider_calls) == (2, calls + extra)
    assert stats.evaluations == exp.evaluations + result.explanation.evaluations

    before = provider.batch_calls
    comparison = ai.compare("sw-v1", ROW, OTHER)
    stats = ai.monitor.explain_stats("sw-v1")
    assert stats is not None and stats.explanations == 4
    assert stats.provider_calls == calls + extra + provider.batch_calls - before
    assert stats.evaluations == (
        exp.evaluations
        + result.explanation.evaluations
        + comparison.explanation1.evaluations
        + comparison.explanation2.evaluations
    )
    assert ai.stats("sw-v1").total == 3  # type: ignore[union-attr]


def test_a_failed_explanation_counts_its_calls_and_a_failure() -> None:
    ai = cloud()
    provider = ai.provider_for("sw-v1")
    assert isinstance(provider, Switchable)
    provider.down = True
    with pytest.raises(ProviderServerError):
        ai.explain("sw-v1", ROW)
    stats = ai.monitor.explain_stats("sw-v1")
    assert stats is not None
    # one guarded scoring call (the first coalition batch), tried twice (retries=1)
    assert (stats.explanations, stats.failures, stats.provider_calls) == (0, 1, 1)
    assert provider.batch_calls == 2
    assert ai.stats("sw-v1") is None  # no prediction was made
    ai.monitor.clear("sw-v1")
    assert ai.monitor.explain_stats("sw-v1") is None
