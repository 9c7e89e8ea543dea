"""End to end through AICloud: the plugin registers provider and models; each model predicts its example."""

from __future__ import annotations

import json

import pytest

import hotcrm_ai_plugins
from hotcrm_ai import AICloud
from hotcrm_ai.config import Settings
from hotcrm_ai.errors import ValidationError
from hotcrm_ai_plugins.models.examples import CHURN_HIGH, EXAMPLES, LEAD_WARM


@pytest.fixture
def cloud():
    ai = AICloud(Settings(), plugins=[hotcrm_ai_plugins], load_entrypoints=False)
    yield ai
    ai.close()


def test_each_model_predicts_end_to_end(cloud: AICloud) -> None:
    for model_id, features in EXAMPLES.items():
        result = cloud.predict(model_id, features)
        assert result.ok and not result.degraded, (model_id, result.error)
        assert result.model_id == model_id and result.model_version == "1.0.0"
        assert 0 <= result.confidence <= 100
        json.dumps(result.prediction)  # plain JSON out
    lead = cloud.predict("lead-scoring-v1", EXAMPLES["lead-scoring-v1"])
    assert lead.cached and lead.prediction["label"] == "hot"


def test_batch_end_to_end_matches_single(cloud: AICloud) -> None:
    rows = [LEAD_WARM, EXAMPLES["lead-scoring-v1"], dict(LEAD_WARM, age=60)]
    results = cloud.batch_predict("lead-scoring-v1", rows, use_cache=False)
    assert [r.prediction for r in results] == [
        cloud.predict("lead-scoring-v1", r, use_cache=False).prediction for r in rows
    ]


def test_schema_errors_name_the_field(cloud: AICloud) -> None:
    with pytest.raises(ValidationError, match="tenure"):
        cloud.predict("churn-prediction-v1", dict(CHURN_HIGH, tenure=-3)).raise_for_error()


def test_linear_explanation_through_the_cloud(cloud: AICloud) -> None:
    exp = cloud.explain("churn-prediction-v1", CHURN_HIGH)
    assert exp.contributions
    assert abs(exp.base_value + sum(c.contribution for c in exp.contributions) - exp.output_value) < 1e-6
