"""Every default model type explained through the real ``custom`` provider, each adding up to the
served output: words of a text, a forecast's level/trend/season, a recommendation's basket products."""

from __future__ import annotations

import itertools
import math
import re

import attrs
import numpy as np
import pytest
from support.explain import builtin_specs
from support.models import models, predict, provider

from hotcrm_ai import AICloud
from hotcrm_ai.config import ExplainSettings
from hotcrm_ai.explain.service import ExplainabilityService
from hotcrm_ai.types import ModelConfig
from hotcrm_ai_plugins.models.examples import CHURN_HIGH, FORECAST, LEAD_HOT, RECOMMENDATION, SENTIMENT_NEGATIVE

EXAMPLES = {
    "lead-scoring-v1": LEAD_HOT,
    "churn-prediction-v1": CHURN_HIGH,
    "sentiment-analysis-v1": SENTIMENT_NEGATIVE,
    "revenue-forecast-v1": FORECAST,
    "product-recommendation-v1": RECOMMENDATION,
}


def service() -> ExplainabilityService:
    return ExplainabilityService(builtin_specs(), ExplainSettings())


def score_of(text: str) -> float:
    return float(predict(provider(), models()["sentiment-analysis-v1"], {"text": text}).prediction["score"])


def masked(words: list[str], keep: set[int]) -> str:
    out: list[str] = []
    for i, w in enumerate(words):
        if i in keep:
            out.append(w)
        elif not out or out[-1] != "...":
            out.append("...")
    return " ".join(out)


def test_short_text_gets_exact_word_shapley_values_matching_brute_force() -> None:
    text = "the support team was wonderful"
    words = text.split()
    exp = service().explain_model(models()["sentiment-analysis-v1"], {"text": text}, provider())
    assert exp.method == "text" and exp.metadata["values"] == "shapley" and exp.output_kind == "score"
    memo: dict[frozenset[int], float] = {}

    def v(s: frozenset[int]) -> float:
        if s not in memo:
            memo[s] = score_of(masked(words, set(s)))
        return memo[s]

    phi = np.zeros(len(words))
    perms = list(itertools.permutations(range(len(words))))
    for order in perms:
        s: frozenset[int] = frozenset()
        for i in order:
            phi[i] += v(s | {i}) - v(s)
            s = s | {i}
    np.testing.assert_allclose([c.contribution for c in exp.contributions], phi / len(perms), atol=1e-12)
    assert [c.value for c in exp.contributions] == words
    assert exp.output_value == score_of(text)
    assert exp.base_value + math.fsum(c.contribution for c in exp.contributions) == pytest.approx(
        exp.output_value, abs=1e-12
    )
    top = max(exp.contributions, key=lambda c: c.contribution)
    assert top.value == "wonderful"  # the sentiment-bearing word carries the positive score
    assert f"• Text word 5: wonderful (impact: +{round(top.importance)}%)" in exp.text


def test_long_text_gets_owen_values_that_add_up_to_the_served_score() -> None:
    text = (
        "I waited three weeks for a refund and nobody answered my emails, the product broke after two days "
        "and the replacement was just as bad, although the delivery driver was friendly and polite"
    )
    exp = service().explain_model(models()["sentiment-analysis-v1"], {"text": text}, provider())
    assert exp.method == "text" and exp.metadata["values"] == "owen"
    assert len(exp.contributions) == len(text.split()) and exp.evaluations < 2**12
    assert exp.output_value == score_of(text) and exp.base_value == score_of("...")
    assert exp.base_value + math.fsum(c.contribution for c in exp.contributions) == pytest.approx(
        exp.output_value, abs=1e-12
    )
    negative = {c.value for c in exp.contributions if c.contribution < 0}
    assert negative & {"broke", "bad,", "nobody"}
    assert any(re.search(rf": {re.escape(c.value)} \(impact", exp.text) for c in exp.top_features)


def test_forecast_values_are_level_plus_trend_plus_season_exactly() -> None:
    row = {
        "history": [100 + 0.5 * t + 10 * math.sin(2 * math.pi * t / 12) for t in range(60)],
        "horizon": 12,
        "season_length": 12,
    }
    served = predict(provider(), models()["revenue-forecast-v1"], row).prediction["forecast"]
    exp = service().explain_model(models()["revenue-forecast-v1"], row, provider())
    assert exp.method == "additive" and [c.feature for c in exp.contributions] == ["level", "trend", "season"]
    periods = exp.metadata["periods"]
    for got, want in zip(periods, served, strict=True):
        assert got["level"] + got["trend"] + got["season"] == pytest.approx(want["value"], rel=1e-12)
    assert exp.output_value == pytest.approx(np.mean([f["value"] for f in served]), rel=1e-12)
    season = [p["season"] for p in periods]
    assert max(season) > 5 and min(season) < -5  # the sine's swing is in the season part, not the level
    assert "• Level:" in exp.text


def forced_forecast(method: str) -> ModelConfig:
    model = models()["revenue-forecast-v1"]
    return attrs.evolve(model, parameters={**model.parameters, "method": method})


@pytest.mark.parametrize("method", ["naive", "snaive", "naive2", "arima", "naive+snaive"])
def test_forecast_level_is_the_sum_of_its_history_points_contributions(method: str) -> None:
    """Methods whose level is a weighted sum of at most a season of points: the listed points are all of
    them, their weights add up to 1 and their contributions to the served level."""
    rng = np.random.default_rng(4)
    row = {
        "history": [50 + 0.3 * t + 8 * math.sin(2 * math.pi * t / 4) + rng.normal(0, 1) for t in range(40)],
        "horizon": 6,
        "season_length": 4,
    }
    model = forced_forecast(method)
    p = provider()
    served = predict(p, model, row).prediction["forecast"]
    exp = service().explain_model(model, row, p)
    drivers = exp.metadata["level_drivers"]
    assert drivers["exact"] is True and drivers["weight_shown"] == pytest.approx(1.0, rel=1e-12)
    points = drivers["points"]
    assert sum(pt["weight"] for pt in points) == pytest.approx(1.0, rel=1e-12)
    for period, want in zip(exp.metadata["periods"], served, strict=True):
        assert sum(pt["contribution"] for pt in points) == pytest.approx(period["level"], rel=1e-9)
        assert period["level"] + period["trend"] + period["season"] == pytest.approx(want["value"], rel=1e-12)
    assert all(row["history"][pt["index"]] == pt["value"] for pt in points)
    if method == "snaive":  # every value is one history point, a season back
        for period, want in zip(exp.metadata["periods"], served, strict=True):
            assert row["history"][period["source"]] == pytest.approx(want["value"], rel=1e-12)


def test_forecast_ets_level_drivers_are_its_smoothing_weights_newest_first() -> None:
    row = {
        "history": [100 + 0.5 * t + 10 * math.sin(2 * math.pi * t / 12) for t in range(60)],
        "horizon": 12,
        "season_length": 12,
    }
    model = forced_forecast("ets")
    exp = service().explain_model(model, row, provider())
    drivers = exp.metadata["level_drivers"]
    assert drivers["exact"] is False and 0 < drivers["weight_shown"] <= 1 + 1e-12
    points = drivers["points"]
    assert points[0]["index"] == 59  # the newest point weighs most
    weights = [pt["weight"] for pt in points]
    assert weights == sorted(weights, reverse=True) and all("contribution" not in pt for pt in points)
    assert [pt["index"] for pt in points] == sorted((pt["index"] for pt in points), reverse=True)


def test_recommendation_scores_are_the_basket_products_contributions() -> None:
    m = models()["product-recommendation-v1"]
    basket = list(RECOMMENDATION["products"])
    served = predict(provider(), m, RECOMMENDATION).prediction["items"]
    exp = service().explain_model(m, RECOMMENDATION, provider())
    assert exp.method == "additive" and exp.output_kind == "score"
    items = exp.metadata["items"]
    assert [i["id"] for i in items] == [s["id"] for s in served]
    for item, s in zip(items, served, strict=True):
        assert item["base"] + math.fsum(item["contributions"].values()) == pytest.approx(s["score"], abs=1e-12)
        assert abs(item["base"]) < 1e-5  # only the popularity tie-break and the rounding are left over
    # additive in the basket: dropping a product removes exactly its contribution from the item's score
    top = items[0]
    for code, share in top["contributions"].items():
        rest = [c for c in basket if c != code]
        if not rest:
            continue
        scores = {s["id"]: s["score"] for s in predict(provider(), m, {"products": rest, "k": 100}).prediction["items"]}
        if top["id"] in scores:
            assert scores[top["id"]] == pytest.approx(top["score"] - share, abs=2e-6)


@pytest.mark.parametrize("model_id", list(EXAMPLES))
def test_predict_explain_and_compare_work_for_all_five_default_models(model_id: str) -> None:
    with AICloud.from_config() as ai:
        out = ai.predict(model_id, EXAMPLES[model_id], explain=True)
        exp = out.explanation
        assert exp is not None
        assert exp.base_value + math.fsum(c.contribution for c in exp.contributions) == pytest.approx(
            exp.output_value, rel=1e-9, abs=1e-9
        )
        assert exp.text.startswith("The prediction was influenced by:")
        again = ai.explain(model_id, EXAMPLES[model_id])
        assert again.output_value == pytest.approx(exp.output_value, rel=1e-12)
        cmp = ai.compare(model_id, EXAMPLES[model_id], EXAMPLES[model_id])
        assert cmp.output_difference == pytest.approx(0.0, abs=1e-12)
