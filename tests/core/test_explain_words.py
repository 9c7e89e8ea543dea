"""Word-level text explanations: exact Shapley for few words, Owen values for more, masking words out."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from support.explain import builtin_specs

from hotcrm_ai.config import ExplainSettings
from hotcrm_ai.explain.service import ExplainabilityService
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.types import FeatureSpec, HealthReport, ModelConfig, PredictionInput, PredictionOutput, ProviderConfig

WEIGHTS = {"great": 2.0, "awful": -3.0, "not": -0.5, "fast": 1.0}


class WordScore(BaseMLProvider):
    """A text model additive in its words (plus a bonus when 'not' and 'awful' co-occur): known attributions."""

    name = "word-score"
    native_batch = True

    def __init__(self, interaction: float = 0.0) -> None:
        super().__init__(ProviderConfig(provider="word-score"))
        self.interaction = interaction

    def validate(self) -> bool:
        return True

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        return self.batch_predict(model, [inp])[0]

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        out = []
        for i in inputs:
            words = str(i.features["text"]).split()
            s = sum(WEIGHTS.get(w, 0.0) for w in words) + 0.1 * float(i.features.get("stars", 0))
            if "not" in words and "awful" in words:
                s += self.interaction
            out.append(PredictionOutput(prediction={"score": s}))
        return out

    def health_check(self) -> HealthReport:
        return HealthReport(healthy=True)


def model(**kw: Any) -> ModelConfig:
    return ModelConfig(
        id="words",
        name="w",
        type="nlp",
        provider="word-score",
        features=[FeatureSpec("text", dtype="string"), FeatureSpec("stars", required=False)],
        background=[{"text": "", "stars": 3}],
        **kw,
    )


def explain(features: Mapping[str, Any], provider: WordScore, budget: int = 50_000) -> Any:
    svc = ExplainabilityService(builtin_specs(), ExplainSettings(budget=budget))
    return svc.explain_model(model(), features, provider)


@pytest.mark.parametrize("n_words", [6, 40])  # exact Shapley (few words), Owen values (many)
def test_additive_text_model_gets_each_words_own_weight(n_words: int) -> None:
    pool = ["great", "awful", "fast", "the", "service"]
    words = [pool[i % len(pool)] for i in range(n_words)]
    exp = explain({"text": " ".join(words)}, WordScore())
    assert exp.method == "text"
    assert exp.metadata["values"] == ("shapley" if n_words <= 10 else "owen")
    np.testing.assert_allclose(
        [c.contribution for c in exp.contributions], [WEIGHTS.get(w, 0.0) for w in words], atol=1e-12
    )
    assert exp.base_value == 0.0  # every word masked: "..."


def test_interaction_is_shared_and_everything_adds_up_with_other_fields() -> None:
    exp = explain({"text": "not awful at all", "stars": 5}, WordScore(interaction=4.0))
    phi = {c.feature: c.contribution for c in exp.contributions}
    assert phi["text[0]"] == pytest.approx(-0.5 + 2.0) and phi["text[1]"] == pytest.approx(-3.0 + 2.0)
    assert phi["stars"] == pytest.approx(0.1 * (5 - 3))  # the field against its background value
    assert exp.base_value + math.fsum(phi.values()) == pytest.approx(exp.output_value, abs=1e-12)
    assert "• Text word 2: awful (impact: -" in exp.text


def test_long_text_is_grouped_into_phrases_to_fit_the_budget() -> None:
    text = " ".join(["great", "awful", "fast", "the"] * 50)
    exp = explain({"text": text}, WordScore(), budget=2_000)
    assert exp.evaluations <= 2_000 and exp.metadata["words_per_player"] > 1
    assert exp.base_value + math.fsum(c.contribution for c in exp.contributions) == pytest.approx(
        exp.output_value, abs=1e-9
    )
    assert exp.output_value == pytest.approx(50 * (2.0 - 3.0 + 1.0))
