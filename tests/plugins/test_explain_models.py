"""Explanations of the shipped CRM models (served by the real ``custom`` provider), checked against
an independent brute-force Shapley computation and the models' own served outputs."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import pytest
from support.explain import brute_force_shapley, builtin_specs

from hotcrm_ai.config import ExplainSettings
from hotcrm_ai.explain.service import ExplainabilityService
from hotcrm_ai.interfaces import LinearModel
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.types import HealthReport, ModelConfig, PredictionInput, PredictionOutput, ProviderConfig
from hotcrm_ai_plugins.custom import CustomProvider
from hotcrm_ai_plugins.models import default_models

MODELS = {m.id: m for m in default_models()}
PROVIDER = CustomProvider(ProviderConfig(provider="custom"))
LINE = re.compile(r"^• [^:]+: .* \(impact: [+-]\d+%(, (raises|lowers) the probability by [^)]+)?\)$")


def service(**kw: Any) -> ExplainabilityService:
    return ExplainabilityService(builtin_specs(), ExplainSettings(**kw))


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def served_probability(model: ModelConfig, row: Mapping[str, Any]) -> float:
    return float(PROVIDER.predict(model, PredictionInput(features=dict(row))).prediction["probability"])


def check_reason_text(text: str, n_lines: int) -> None:
    lines = text.splitlines()
    assert text.startswith("The prediction was influenced by:\n\n")
    factor_lines = [ln for ln in lines if ln.startswith("• ")]
    assert len(factor_lines) == n_lines and all(LINE.match(ln) for ln in factor_lines)


@pytest.mark.parametrize("model_id", ["lead-scoring-v1", "churn-prediction-v1"])
def test_linear_models_explain_their_log_odds_additively(model_id: str) -> None:
    model = MODELS[model_id]
    row = dict(model.background[3])
    exp = service().explain_model(model, row, PROVIDER)
    assert exp.method == "linear" and exp.output_kind == "log-odds" and exp.exact
    assert abs(exp.base_value + sum(c.contribution for c in exp.contributions) - exp.output_value) <= 1e-6
    # the explained number is the model's own: its sigmoid is the probability the provider serves (6 dp)
    assert 1 / (1 + math.exp(-exp.output_value)) == pytest.approx(served_probability(model, row), abs=1e-6)
    assert [c.feature for c in exp.contributions] == list(row)  # input fields, one-hot columns grouped back
    assert math.isclose(sum(c.importance for c in exp.contributions), 100.0)
    nonzero_top = sum(1 for c in exp.top_features if c.contribution != 0)
    check_reason_text(exp.text, nonzero_top)


@attrs.define
class PinnedProvider(BaseMLProvider):
    """The real provider, with every field but ``free`` pinned to ``row``'s value: a sub-game of the
    real model small enough for brute force. ``log_odds`` adds the runner's own linear predictor."""

    inner: CustomProvider
    row: dict[str, Any]
    free: tuple[str, ...]
    log_odds: bool = False
    linear: LinearModel | None = None
    name = "pinned"
    native_batch = True

    def __attrs_post_init__(self) -> None:
        BaseMLProvider.__init__(self, ProviderConfig(provider="custom"))

    def full(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [{**self.row, **{k: r[k] for k in self.free}} for r in rows]

    def validate(self) -> bool:
        return True

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        return self.batch_predict(model, [inp])[0]

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        rows = self.full([i.features for i in inputs])
        real = MODELS[model.id.removesuffix("-sub")]
        if not self.log_odds:
            return self.inner.batch_predict(real, [PredictionInput(features=r) for r in rows])
        lin = self.inner.linear_model(real)
        eta = lin.intercept + lin.encode(rows) @ lin.coef
        return [PredictionOutput(prediction={"log_odds": float(e)}) for e in eta]

    def health_check(self, model: ModelConfig | None = None) -> HealthReport:
        return HealthReport(healthy=True)

    def linear_model(self, model: ModelConfig) -> LinearModel | None:
        return self.linear


def sub_model(model: ModelConfig, free: tuple[str, ...], explain_output: str) -> ModelConfig:
    return attrs.evolve(
        model,
        id=f"{model.id}-sub",
        features=[f for f in model.features if f.name in free],
        background=[{k: r[k] for k in free} for r in model.background[:12]],
        explain_output=explain_output,
    )


SUBGAMES = {
    "lead-scoring-v1": ("age", "job", "month", "campaign", "euribor3m"),
    "churn-prediction-v1": ("tenure", "contract", "internet_service", "monthly_charges", "payment_method"),
}


@pytest.mark.parametrize("model_id", list(SUBGAMES))
def test_exact_on_the_real_model_matches_brute_force(model_id: str) -> None:
    model, free = MODELS[model_id], SUBGAMES[model_id]
    row = dict(model.background[7])
    x = {k: model.background[20][k] for k in free}
    sub = sub_model(model, free, "probability")
    provider = PinnedProvider(PROVIDER, row, free)
    exp = service().explain_model(sub, x, provider, method="exact")

    def f(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return np.array([served_probability(model, r) for r in provider.full(rows)])

    ref, base = brute_force_shapley(f, x, sub.background, list(free))
    np.testing.assert_allclose([c.contribution for c in exp.contributions], ref, atol=1e-12)
    assert exp.base_value == pytest.approx(base, abs=1e-12) and exp.output_kind == "probability"
    assert abs(exp.base_value + sum(c.contribution for c in exp.contributions) - exp.output_value) <= 1e-9


@pytest.mark.parametrize("model_id", list(SUBGAMES))
def test_linear_closed_form_equals_exact_enumeration_on_the_real_coefficients(model_id: str) -> None:
    model, free = MODELS[model_id], SUBGAMES[model_id]
    row = dict(model.background[7])
    x = {k: model.background[20][k] for k in free}
    sub = sub_model(model, free, "log_odds")
    real = PROVIDER.linear_model(model)
    assert real is not None
    plain = PinnedProvider(PROVIDER, row, free, log_odds=True)
    # E[x] over the same background the exact method uses, so both compute the same Shapley values
    mean = real.encode(plain.full(sub.background)).mean(axis=0)
    lin = LinearModel(
        coef=real.coef,
        intercept=real.intercept,
        mean=mean,
        groups=real.groups,
        encode=lambda rows: real.encode(plain.full(rows)),
        link="logit",
    )
    provider = PinnedProvider(PROVIDER, row, free, log_odds=True, linear=lin)
    by_linear = service().explain_model(sub, x, provider, method="linear")
    by_exact = service().explain_model(sub, x, provider, method="exact")
    np.testing.assert_allclose(
        [c.contribution for c in by_linear.contributions], [c.contribution for c in by_exact.contributions], atol=1e-9
    )
    assert by_linear.base_value == pytest.approx(by_exact.base_value, abs=1e-9)
    assert by_linear.output_value == pytest.approx(by_exact.output_value, abs=1e-9)


def test_churn_compare_contract_change() -> None:
    model = MODELS["churn-prediction-v1"]
    a = {**model.background[0], "contract": "Month-to-month"}
    b = {**a, "contract": "Two year"}
    cmp = service().compare(model, a, b, PROVIDER)
    assert [d.feature for d in cmp.differences] == ["contract"]
    d = cmp.differences[0]
    # additive in log-odds: the change of one field's credit is the whole change of the log-odds
    expected = logit(served_probability(model, b)) - logit(served_probability(model, a))
    assert d.impact_difference == pytest.approx(expected, abs=1e-4) and d.impact_difference < 0
    assert cmp.text == (
        "Key differences:\n\n• Contract changed from Month-to-month to Two year, which decreased the prediction\n"
    )


def test_sentiment_single_text_field_against_its_background() -> None:
    model = MODELS["sentiment-analysis-v1"]
    text = "Absolutely wonderful service, the team was friendly and fast."
    exp = service().explain_model(model, {"text": text}, PROVIDER, method="exact")  # the field as one player
    assert exp.method == "exact" and exp.output_kind == "score"
    scores = [PROVIDER.predict(model, PredictionInput(features=r)).prediction["score"] for r in model.background]
    served = PROVIDER.predict(model, PredictionInput(features={"text": text})).prediction["score"]
    assert exp.base_value == pytest.approx(float(np.mean(scores)), abs=1e-12)
    assert exp.output_value == pytest.approx(served, abs=1e-12)
    assert exp.contributions[0].contribution == pytest.approx(served - np.mean(scores), abs=1e-12)
    assert exp.text == f"The prediction was influenced by:\n\nPositive factors:\n• Text: {text} (impact: +100%)\n"


@pytest.mark.parametrize("model_id", ["lead-scoring-v1", "churn-prediction-v1"])
def test_linear_expectation_is_over_the_declared_background(model_id: str) -> None:
    """All methods share one reference: the closed form's E[x] is the declared background's mean,
    so it equals interventional enumeration over that background (in log-odds)."""
    import numpy as np

    import hotcrm_ai_plugins
    from hotcrm_ai import AICloud
    from hotcrm_ai.config import Settings

    ai = AICloud(Settings(), plugins=[hotcrm_ai_plugins], load_entrypoints=False)
    model = ai.registry.get(model_id)
    lin = ai.provider_for(model).linear_model(model)
    assert lin is not None
    x = dict(model.background[5])
    exp = ai.explain(model_id, x, method="linear")
    encoded = lin.encode([dict(r) for r in model.background])
    assert exp.base_value == pytest.approx(float(lin.intercept + lin.coef @ encoded.mean(axis=0)), abs=1e-9)
    per_row = [float(lin.intercept + lin.coef @ e) for e in encoded]
    assert exp.base_value == pytest.approx(float(np.mean(per_row)), abs=1e-9)  # mean log-odds of the background
    assert exp.base_value + sum(c.contribution for c in exp.contributions) == pytest.approx(exp.output_value, abs=1e-6)


def _odd_rows(model: ModelConfig) -> list[dict[str, Any]]:
    """Background rows plus values the per-row tables must treat as the column path does: numbers
    outside the training range (clipped), an unseen category ("other"), an integer category given
    as a float, bin edges."""
    rows = [dict(r) for r in model.background[:20]]
    lin = PROVIDER.linear_model(model)
    assert lin is not None
    specs = {f.name: f for f in model.features}
    for base in rows[:3]:
        for name in lin.term_fields:
            spec = specs[name]
            changed = dict(base)
            if spec.dtype in ("number", "integer") and spec.choices is None:
                for value in (spec.maximum if spec.maximum is not None else 1e9, spec.minimum or 0, 999, 0.5):
                    if spec.dtype == "integer" and not float(value).is_integer():
                        continue
                    low_ok = spec.minimum is None or value >= spec.minimum
                    if low_ok and (spec.maximum is None or value <= spec.maximum):
                        rows.append({**changed, name: value})
            elif spec.dtype == "string":
                rows.append({**changed, name: "never-seen-before"})
            elif spec.dtype == "integer":
                rows.append({**changed, name: float(base[name])})
    return rows


@pytest.mark.parametrize("model_id", ["lead-scoring-v1", "churn-prediction-v1"])
def test_row_terms_equal_the_column_terms(model_id: str) -> None:
    model = MODELS[model_id]
    lin = PROVIDER.linear_model(model)
    assert lin is not None and lin.terms is not None and lin.row_terms is not None
    rows = _odd_rows(model)
    assert len(rows) > 30
    for row in rows:
        np.testing.assert_allclose(lin.row_terms(row), lin.terms([row])[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("model_id", ["lead-scoring-v1", "churn-prediction-v1"])
def test_compiled_linear_explainer_equals_explain_and_the_served_output(model_id: str) -> None:
    import hotcrm_ai_plugins
    from hotcrm_ai import AICloud
    from hotcrm_ai.config import Settings
    from hotcrm_ai.errors import ExplanationError, ValidationError

    ai = AICloud(Settings(), plugins=[hotcrm_ai_plugins], load_entrypoints=False)
    model = ai.registry.get(model_id)
    fast = ai.linear_explainer(model_id)
    for row in model.background[:10]:
        got = fast(row)
        exp = ai.explain(model_id, row)
        assert list(got.names) == [c.feature for c in exp.contributions]
        np.testing.assert_allclose(got.phi, [c.contribution for c in exp.contributions], rtol=0, atol=1e-12)
        assert got.base == pytest.approx(exp.base_value, abs=1e-12)
        assert got.output == pytest.approx(exp.output_value, abs=1e-12)
        assert got.base + math.fsum(got.phi) == pytest.approx(got.output, abs=1e-9)
        assert got.probability is not None and got.base_probability is not None and got.phi_probability is not None
        assert got.probability == pytest.approx(served_probability(model, row), abs=6e-7)  # served: 6 decimals
        assert got.base_probability + math.fsum(got.phi_probability) == pytest.approx(got.probability, abs=1e-12)
        assert got.text == exp.text and got.explanation().metadata["probability"] == exp.metadata["probability"]
    stats = ai.monitor.explain_stats(model_id)
    assert stats is not None and (stats.explanations, stats.provider_calls, stats.methods) == (20, 0, {"linear": 20})
    with pytest.raises(ValidationError, match=r"age|tenure"):
        fast({**model.background[0], ("age" if "age" in model.background[0] else "tenure"): -5})
    with pytest.raises(ExplanationError, match="no logit-link coefficients"):
        ai.linear_explainer("sentiment-analysis-v1")


@pytest.mark.parametrize("model_id", ["lead-scoring-v1", "churn-prediction-v1"])
def test_columnar_batch_equals_rows_on_the_shipped_models(model_id: str) -> None:
    model = MODELS[model_id]
    rows = _odd_rows(model)
    columns: dict[str, Any] = {k: [r[k] for r in rows] for k in rows[0]}
    numeric = {k: np.asarray(v, dtype=float) for k, v in columns.items() if all(type(x) in (int, float) for x in v)}
    svc = service()
    by_rows = svc.explain_batch(model, rows, PROVIDER)
    by_columns = svc.explain_batch(model, {**columns, **numeric}, PROVIDER)
    assert numeric and by_columns.names == by_rows.names
    np.testing.assert_allclose(by_columns.phi, by_rows.phi, rtol=0, atol=1e-12)
    np.testing.assert_allclose(by_columns.output, by_rows.output, rtol=0, atol=1e-12)
