"""Two Azure ML models on one scoring endpoint, differing only in key or only in a config value, are
served by their own provider instances with their own settings (the real HTTP client on the wire)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.azureml_standin import GREEN, LEAD_FEATURES, ScoringStandin

import hotcrm_ai_azureml
from hotcrm_ai import AICloud, Settings
from hotcrm_ai.errors import PredictionError
from hotcrm_ai.types import FeatureSpec, ModelConfig, ProviderConfig

ROW = {"engagement": 0.95, "visits": 14, "budget_k": 120.0, "referral": True}


@pytest.fixture
def scoring() -> Iterator[ScoringStandin]:
    with ScoringStandin() as server:
        yield server


def model(model_id: str, scoring: ScoringStandin, key: str, **config: object) -> ModelConfig:
    return ModelConfig(
        id=model_id,
        name=model_id,
        type="classification",
        provider="azure-ml",
        cache_ttl_s=0,
        features=tuple(FeatureSpec(n, dtype="boolean" if n == "referral" else "number") for n in LEAD_FEATURES),
        provider_config=ProviderConfig(
            provider="azure-ml", endpoint=scoring.scoring_uri, credentials={"api_key": key}, config=config
        ),
    )


def cloud(*models: ModelConfig) -> AICloud:
    return AICloud(Settings(models=models), load_entrypoints=False, plugins=[hotcrm_ai_azureml])


def test_a_model_registered_with_a_wrong_key_gets_no_predictions(scoring: ScoringStandin) -> None:
    with cloud(model("good", scoring, scoring.keys[0]), model("wrong", scoring, "wrong-key-0123456789")) as ai:
        assert ai.predict("good", ROW).prediction == pytest.approx(scoring.scores([ROW])[0])
        with pytest.raises(PredictionError, match="ProviderAuthError"):
            ai.predict("wrong", ROW)
        auths = [r.headers.get("authorization") for r in scoring.scoring_requests()]
        assert auths[0] == f"Bearer {scoring.keys[0]}" and auths[1] == "Bearer wrong-key-0123456789"


def test_models_differing_in_a_config_value_use_their_own(scoring: ScoringStandin) -> None:
    key = scoring.keys[0]
    with cloud(model("blue", scoring, key), model("green", scoring, key, deployment="green")) as ai:
        blue, green = ai.predict("blue", ROW).prediction, ai.predict("green", ROW).prediction
        assert blue == pytest.approx(scoring.scores([ROW])[0])
        assert green == pytest.approx(float(GREEN.predict_proba([ROW])[0]))
        assert ai.provider_for("blue") is not ai.provider_for("green")
        deployments = [r.headers.get("azureml-model-deployment") for r in scoring.scoring_requests()]
        assert deployments == [None, "green"]
