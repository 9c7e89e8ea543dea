"""The azure-ml plugin driven through ``AICloud``: registration by hook, the prediction service's retries
(honouring Retry-After), batching, caching and error reporting, on both paths."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.azureml_standin import GREEN, LEAD_FEATURES, ArmStandin, FakeCredential, Fault, ScoringStandin

import hotcrm_ai_azureml
from hotcrm_ai import AICloud, Settings
from hotcrm_ai.errors import PredictionError, ProviderAuthError, ProviderResponseError
from hotcrm_ai.types import FeatureSpec, ModelConfig, ProviderConfig

# azure-ai-ml imports with marshmallow-4 deprecation warnings (third-party, at import time)
pytestmark = pytest.mark.filterwarnings("ignore::marshmallow.warnings.Marshmallow4Warning")


KEY_ENV = "HOTCRM_TEST_AZML_CLOUD_KEY"
ROWS = [
    {"engagement": 0.95, "visits": 14, "budget_k": 120.0, "referral": True},
    {"engagement": 0.05, "visits": 0, "budget_k": 2.0, "referral": False},
    {"engagement": 0.45, "visits": 6, "budget_k": 40.0, "referral": True},
]


def lead_model(model_id: str = "lead-azure", **parameters: Any) -> ModelConfig:
    return ModelConfig(
        id=model_id,
        name="Lead scoring (Azure ML)",
        type="classification",
        provider="azure-ml",
        parameters=parameters,
        features=tuple(FeatureSpec(n, dtype="boolean" if n == "referral" else "number") for n in LEAD_FEATURES),
    )


@pytest.fixture
def scoring(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScoringStandin]:
    with ScoringStandin() as server:
        monkeypatch.setenv(KEY_ENV, server.keys[0])
        yield server


def direct_cloud(scoring: ScoringStandin, *models: ModelConfig, **config: Any) -> AICloud:
    provider = ProviderConfig(
        provider="azure-ml", endpoint=scoring.scoring_uri, credentials={"api_key": {"env": KEY_ENV}}, config=config
    )
    settings = Settings(providers={"azure-ml": provider}, models=models or (lead_model(),))
    return AICloud(settings, load_entrypoints=False, plugins=[hotcrm_ai_azureml])


def test_plugin_registers_the_provider(scoring: ScoringStandin) -> None:
    with direct_cloud(scoring) as cloud:
        assert "azure-ml" in cloud.plugins.providers
        provider = cloud.provider_for("lead-azure")
        assert type(provider).__name__ == "AzureMLProvider" and provider.native_batch is True


def test_predict_scores_depend_on_input(scoring: ScoringStandin) -> None:
    with direct_cloud(scoring) as cloud:
        results = [cloud.predict("lead-azure", r, use_cache=False) for r in ROWS]
    assert [r.prediction for r in results] == pytest.approx(scoring.scores(ROWS))
    assert len({round(r.prediction, 6) for r in results}) == 3
    assert all(r.ok and not r.degraded and r.model_id == "lead-azure" for r in results)


def test_batch_in_one_request(scoring: ScoringStandin) -> None:
    rows = [{"engagement": i / 25, "visits": i, "budget_k": 3.0 * i, "referral": i % 2 == 1} for i in range(25)]
    with direct_cloud(scoring) as cloud:
        results = cloud.batch_predict("lead-azure", rows)
        assert len(scoring.scoring_requests()) == 1
        assert [r.prediction for r in results] == pytest.approx(scoring.scores(rows))
        # cached now: the same batch makes no request
        again = cloud.batch_predict("lead-azure", rows)
    assert len(scoring.scoring_requests()) == 1
    assert all(r.cached for r in again)


def test_deployment_header_when_pinned(scoring: ScoringStandin) -> None:
    with direct_cloud(
        scoring, lead_model(deployment="green"), lead_model("lead-mlflow", payload_format="mlflow")
    ) as cloud:
        pinned = cloud.predict("lead-azure", ROWS[0])
        mlflow = cloud.predict("lead-mlflow", ROWS[0])
    first, second = scoring.scoring_requests()
    assert first.deployment == "green" and second.deployment is None
    assert pinned.prediction == pytest.approx(float(GREEN.predict_proba([ROWS[0]])[0]))
    assert "input_data" in second.json() and mlflow.prediction == pytest.approx(scoring.scores([ROWS[0]])[0])


def test_401_reported_without_the_key_and_not_retried(scoring: ScoringStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "wrong-key-never-in-errors-1234"
    monkeypatch.setenv(KEY_ENV, wrong)
    with direct_cloud(scoring) as cloud, pytest.raises(PredictionError) as info:
        cloud.predict("lead-azure", ROWS[0])
    assert isinstance(info.value.cause, ProviderAuthError)
    texts = [str(info.value), repr(info.value), str(info.value.cause), repr(vars(info.value.cause))]
    assert all(wrong not in t for t in texts)
    assert "401" in str(info.value)
    assert len(scoring.scoring_requests()) == 1


def test_retry_after_is_honoured(scoring: ScoringStandin) -> None:
    scoring.inject(Fault(status=429, body={"message": "throttled"}, headers={"Retry-After": "1"}))
    with direct_cloud(scoring) as cloud:
        started = time.monotonic()
        result = cloud.predict("lead-azure", ROWS[2])
        waited = time.monotonic() - started
    assert result.prediction == pytest.approx(scoring.scores([ROWS[2]])[0])
    assert len(scoring.scoring_requests()) == 2
    assert waited >= 1.0  # the service slept as long as the endpoint asked before trying again


def test_server_error_is_retried_by_the_service(scoring: ScoringStandin) -> None:
    scoring.inject(Fault(status=503, body={"message": "warming up"}))
    with direct_cloud(scoring) as cloud:
        result = cloud.predict("lead-azure", ROWS[1])
    assert result.ok and len(scoring.scoring_requests()) == 2


def test_wrong_shape_is_typed(scoring: ScoringStandin) -> None:
    scoring.inject(Fault(status=200, body={"scores": [0.4]}))
    with direct_cloud(scoring) as cloud, pytest.raises(PredictionError) as info:
        cloud.predict("lead-azure", ROWS[1])
    assert isinstance(info.value.cause, ProviderResponseError)
    assert "'result'" in str(info.value.cause)
    assert len(scoring.scoring_requests()) == 1  # a malformed reply is not retried


def test_health_through_the_cloud(scoring: ScoringStandin) -> None:
    with direct_cloud(scoring, probe={"features": ROWS[0]}) as cloud:
        report = cloud.provider_health("lead-azure")
    assert report.healthy is True and report.details["probe"] == "score"


def test_by_name_through_the_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    with ScoringStandin() as scoring, ArmStandin() as arm:
        arm.add_endpoint("lead-endpoint", scoring)
        monkeypatch.setenv("AZUREML_DEV_URL_MFE", arm.url)
        provider = ProviderConfig(
            provider="azure-ml",
            config={
                "subscription_id": arm.subscription_id,
                "resource_group": arm.resource_group,
                "workspace_name": arm.workspace_name,
                "endpoint_name": "lead-endpoint",
                "credential": FakeCredential(),
            },
        )
        settings = Settings(providers={"azure-ml": provider}, models=(lead_model(),))
        with AICloud(settings, load_entrypoints=False, plugins=[hotcrm_ai_azureml]) as cloud:
            results = cloud.batch_predict("lead-azure", ROWS)
            assert [r.prediction for r in results] == pytest.approx(scoring.scores(ROWS))
            scoring.rotate_keys("rotated-key-aaaaaaaaaaaaaaaa", "rotated-key-bbbbbbbbbbbbbbbb")
            one = cloud.predict("lead-azure", {**ROWS[0], "visits": 3})
            assert one.prediction == pytest.approx(scoring.scores([{**ROWS[0], "visits": 3}])[0])
            assert cloud.provider_health("lead-azure").healthy is True
        assert len(arm.calls("listKeys")) == 2  # resolved once, refreshed once after the rotation
        assert [r.authorization for r in scoring.scoring_requests()][-2:] == [
            "Bearer primary-key-0123456789abcdef",
            "Bearer rotated-key-aaaaaaaaaaaaaaaa",
        ]
