"""Review regressions: ints too large to print or to convert to float are ValidationErrors, not crashes."""

from __future__ import annotations

import pytest
from support.models import models, predict, provider

from hotcrm_ai.errors import ValidationError
from hotcrm_ai_plugins.models.examples import EXAMPLES

HUGE = 10**5000  # repr() raises ValueError past 4,300 digits; float() raises OverflowError


@pytest.mark.parametrize(
    ("model_id", "features", "field"),
    [
        ("churn-prediction-v1", {**EXAMPLES["churn-prediction-v1"], "monthly_charges": HUGE}, "monthly_charges"),
        ("lead-scoring-v1", {**EXAMPLES["lead-scoring-v1"], "pdays": HUGE}, "pdays"),
        ("revenue-forecast-v1", {"history": [HUGE, 1.0, 2.0], "horizon": 1}, "history[0]"),
        ("revenue-forecast-v1", {"history": [1.0, 2.0], "horizon": HUGE}, "horizon"),
        ("product-recommendation-v1", {"products": ["85123A"], "k": HUGE}, "k"),
        ("product-recommendation-v1", {"products": [[HUGE]]}, "products[0]"),
    ],
)
def test_unprintable_ints_are_validation_errors_naming_the_field(model_id: str, features: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        predict(provider(), models()[model_id], features)
    assert info.value.errors[0].field == field
    assert len(str(info.value)) < 2000


def test_unseen_huge_int_category_called_directly_is_noted_not_a_crash() -> None:
    """Called directly (no FeatureSpec check first), an unseen int category is noted in metadata."""
    features = {**EXAMPLES["churn-prediction-v1"], "senior_citizen": HUGE}
    out = predict(provider(), models()["churn-prediction-v1"], features)
    assert out.metadata["unseen"] == {"senior_citizen": "an integer too long to print"}
    assert 0.0 <= out.prediction["probability"] <= 1.0
