"""Lead scoring and churn: sensible predictions, one vectorised path, closed-form linear view, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support.models import batch, models, predict, provider

from hotcrm_ai.errors import ValidationError
from hotcrm_ai_plugins.models import ignored_fields
from hotcrm_ai_plugins.models.examples import CHURN_HIGH, CHURN_LOW, LEAD_HOT, LEAD_WARM

LEAD, CHURN = "lead-scoring-v1", "churn-prediction-v1"


def test_lead_output_shape_and_previous_success_scores_higher() -> None:
    p, m = provider(), models()[LEAD]
    hot, base = predict(p, m, LEAD_HOT), predict(p, m, LEAD_WARM)
    for out in (hot, base):
        assert set(out.prediction) == {"score", "label", "probability"}
        assert 0 <= out.prediction["score"] <= 100 and out.prediction["label"] in ("hot", "warm", "cold")
        assert out.prediction["score"] == pytest.approx(100 * out.prediction["probability"], abs=0.06)
    assert hot.prediction["label"] == "hot" and hot.prediction["probability"] > 0.5
    same_but_nonexistent = dict(LEAD_HOT, poutcome="nonexistent", pdays=999, previous=0)
    assert predict(p, m, same_but_nonexistent).prediction["probability"] < hot.prediction["probability"]


def test_lead_labels_follow_documented_thresholds() -> None:
    p, m = provider(), models()[LEAD]
    runner = p.runner(m)
    rows = [dict(r) for r in m.background]
    for out in batch(p, m, rows):
        prob = out.prediction["probability"]
        want = "hot" if prob >= runner.threshold else ("warm" if prob >= runner.meta["labels"]["warm"] else "cold")
        assert out.prediction["label"] == want


def test_churn_risk_and_direction() -> None:
    p, m = provider(), models()[CHURN]
    high, low = predict(p, m, CHURN_HIGH), predict(p, m, CHURN_LOW)
    assert set(high.prediction) == {"risk", "probability"}
    assert high.prediction["risk"] == "high" and low.prediction["risk"] == "low"
    assert high.prediction["probability"] > 0.5 > low.prediction["probability"]
    longer = predict(p, m, dict(CHURN_HIGH, tenure=40, total_charges=3400.0))
    assert longer.prediction["probability"] < high.prediction["probability"]


@pytest.mark.parametrize("model_id", [LEAD, CHURN])
def test_batch_equals_single_rows_and_confidence_varies(model_id: str) -> None:
    p, m = provider(), models()[model_id]
    rows = [dict(r) for r in m.background]
    many = batch(p, m, rows)
    assert [o.prediction for o in many] == [predict(p, m, r).prediction for r in rows]
    assert [o.confidence for o in many] == [predict(p, m, r).confidence for r in rows]
    confidences = {o.confidence for o in many}
    assert len(confidences) > 10 and all(0 <= c <= 100 for c in confidences)
    assert p.batch_predict(m, []) == []


@pytest.mark.parametrize("model_id", [LEAD, CHURN])
def test_linear_model_reproduces_predict(model_id: str) -> None:
    p, m = provider(), models()[model_id]
    lm = p.linear_model(m)
    assert lm is not None and lm.link == "logit"
    rows = [dict(r) for r in m.background]
    x = lm.encode(rows)
    assert x.shape == (len(rows), len(lm.coef)) == (len(rows), len(lm.groups))
    probs = 1 / (1 + np.exp(-(lm.intercept + x @ lm.coef)))
    served = [o.prediction["probability"] for o in batch(p, m, rows)]
    np.testing.assert_allclose(probs, served, atol=1e-6)
    assert set(lm.groups) == {f.name for f in m.features} - ignored_fields(model_id)
    assert lm.mean.shape == lm.coef.shape
    assert p.linear_model(models()["sentiment-analysis-v1"]) is None


def test_unseen_category_maps_to_other_and_is_reported() -> None:
    p, m = provider(), models()[LEAD]
    out = predict(p, m, dict(LEAD_WARM, job="astronaut"))
    assert out.metadata["unseen"] == {"job": "astronaut"}
    assert 0 < out.prediction["probability"] < 1


def test_numbers_outside_training_range_are_clipped_and_reported() -> None:
    p, m = provider(), models()[CHURN]
    out = predict(p, m, dict(CHURN_LOW, tenure=500))
    assert out.metadata["clipped"] == {"tenure": 500}
    assert out.prediction == predict(p, m, dict(CHURN_LOW, tenure=72)).prediction


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tenure": -1}, "tenure"),
        ({"tenure": math.nan}, "tenure"),
        ({"monthly_charges": math.inf}, "monthly_charges"),
        ({"monthly_charges": "85.7"}, "monthly_charges"),
        ({"tenure": True}, "tenure"),
        ({"contract": 12}, "contract"),
        ({"senior_citizen": "yes"}, "senior_citizen"),
        ({"tenure": None}, "tenure"),
        ({"monthly_charges": 10**400}, "monthly_charges"),
        ({"tenure": 2.5}, "tenure"),
    ],
)
def test_bad_churn_inputs_raise_validation_error_naming_the_field(change: dict, field: str) -> None:
    p, m = provider(), models()[CHURN]
    with pytest.raises(ValidationError) as info:
        predict(p, m, {**CHURN_HIGH, **change})
    assert [e.field for e in info.value.errors] == [field]


def test_missing_field_and_batch_errors_name_the_row() -> None:
    p, m = provider(), models()[LEAD]
    row = dict(LEAD_WARM)
    del row["age"]
    with pytest.raises(ValidationError, match="age"):
        predict(p, m, row)
    with pytest.raises(ValidationError) as info:
        batch(p, m, [LEAD_WARM, dict(LEAD_WARM, campaign=0)])
    assert info.value.errors[0].field == "rows[1].campaign"


def test_huge_and_unicode_category_values_do_not_crash() -> None:
    p, m = provider(), models()[LEAD]
    out = predict(p, m, dict(LEAD_WARM, job="ingénieur ✈ " * 10_000))
    assert len(out.metadata["unseen"]["job"]) < 100
