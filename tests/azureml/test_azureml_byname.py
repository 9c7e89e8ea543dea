"""The by-name path: real azure-ai-ml MLClient against the local ARM stand-in, then scoring.

MLClient is pointed at the stand-in with ``AZUREML_DEV_URL_MFE`` (the SDK's own override for its
management base URL) or with the provider's ``resource_manager_url`` (a custom cloud); it authenticates
with a fake TokenCredential whose token the stand-in checks.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from support.azureml_standin import GREEN, LEAD_FEATURES, ArmStandin, FakeCredential, Fault, ScoringStandin

from hotcrm_ai.errors import ProviderAuthError, ProviderRateLimitError, ProviderRequestError, ProviderServerError
from hotcrm_ai.types import FeatureSpec, ModelConfig, PredictionInput, ProviderConfig
from hotcrm_ai_azureml.provider import AzureMLProvider

# azure-ai-ml imports with marshmallow-4 deprecation warnings (third-party, at import time)
pytestmark = pytest.mark.filterwarnings("ignore::marshmallow.warnings.Marshmallow4Warning")


ROWS = [
    {"engagement": 0.8, "visits": 9, "budget_k": 60.0, "referral": True},
    {"engagement": 0.2, "visits": 2, "budget_k": 10.0, "referral": False},
    {"engagement": 0.55, "visits": 5, "budget_k": 25.0, "referral": True},
]


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ScoringStandin, ArmStandin]]:
    with ScoringStandin() as scoring, ArmStandin() as arm:
        arm.add_endpoint("lead-endpoint", scoring)
        monkeypatch.setenv("AZUREML_DEV_URL_MFE", arm.url)
        monkeypatch.delenv("AZUREML_CURRENT_CLOUD", raising=False)
        yield scoring, arm


def model(**parameters: Any) -> ModelConfig:
    return ModelConfig(
        id="lead-by-name",
        name="Lead scoring (by endpoint name)",
        type="classification",
        provider="azure-ml",
        features=tuple(FeatureSpec(n, dtype="boolean" if n == "referral" else "number") for n in LEAD_FEATURES),
        parameters=parameters,
    )


def by_name(arm: ArmStandin, credential: Any = None, **extra: Any) -> AzureMLProvider:
    config = {
        "subscription_id": arm.subscription_id,
        "resource_group": arm.resource_group,
        "workspace_name": arm.workspace_name,
        "endpoint_name": "lead-endpoint",
        **extra,
    }
    return AzureMLProvider(
        ProviderConfig(provider="azure-ml", config=config), credential=credential or FakeCredential()
    )


def test_resolves_uri_and_key_then_scores(servers: tuple[ScoringStandin, ArmStandin]) -> None:
    scoring, arm = servers
    cred = FakeCredential()
    provider = by_name(arm, cred)
    assert provider.validate() is True
    out = provider.predict(model(), PredictionInput(ROWS[0]))
    assert out.prediction == pytest.approx(scoring.scores([ROWS[0]])[0])
    assert out.metadata["path"] == "by-name" and out.metadata["endpoint"] == scoring.scoring_uri
    assert len(arm.calls("get")) >= 1 and len(arm.calls("listKeys")) == 1
    assert all(r.authorization == f"Bearer {arm.token}" for r in arm.requests)
    assert all("api-version=" in r.path for r in arm.requests)
    assert cred.scopes and cred.scopes[0] == ("https://management.azure.com/.default",)
    assert scoring.scoring_requests()[0].authorization == f"Bearer {scoring.keys[0]}"
    # cached: more predictions make no more ARM calls
    arm_calls = len(arm.requests)
    for row in ROWS:
        provider.predict(model(), PredictionInput(row))
    assert len(arm.requests) == arm_calls
    assert provider.resolver().resolutions == 1
    assert "AZUREML_CURRENT_CLOUD" not in os.environ  # MLClient's side effect was undone


def test_batch_and_deployment_on_the_by_name_path(servers: tuple[ScoringStandin, ArmStandin]) -> None:
    scoring, arm = servers
    outs = by_name(arm).batch_predict(model(deployment="green"), [PredictionInput(r) for r in ROWS])
    assert len(scoring.scoring_requests()) == 1
    assert scoring.scoring_requests()[0].deployment == "green"
    assert [o.prediction for o in outs] == pytest.approx([float(p) for p in GREEN.predict_proba(ROWS)])


def test_model_parameter_names_the_endpoint(servers: tuple[ScoringStandin, ArmStandin]) -> None:
    scoring, arm = servers
    with ScoringStandin(keys=("churn-key-aaaaaaaaaaaa", "churn-key-bbbbbbbbbbbb")) as churn:
        arm.add_endpoint("churn-endpoint", churn)
        provider = by_name(arm)
        provider.predict(model(endpoint_name="churn-endpoint"), PredictionInput(ROWS[1]))
        provider.predict(model(), PredictionInput(ROWS[1]))
        assert len(churn.scoring_requests()) == 1 and len(scoring.scoring_requests()) == 1
        assert churn.scoring_requests()[0].authorization == "Bearer churn-key-aaaaaaaaaaaa"


def test_rotated_key_is_refreshed_once_on_401(servers: tuple[ScoringStandin, ArmStandin]) -> None:
    scoring, arm = servers
    provider = by_name(arm)
    provider.predict(model(), PredictionInput(ROWS[0]))
    scoring.rotate_keys("rotated-primary-111111111111", "rotated-secondary-22222222222")
    out = provider.predict(model(), PredictionInput(ROWS[2]))
    assert out.prediction == pytest.approx(scoring.scores([ROWS[2]])[0])
    auths = [r.authorization for r in scoring.scoring_requests()]
    assert auths[1:] == ["Bearer primary-key-0123456789abcdef", "Bearer rotated-primary-111111111111"]
    assert len(arm.calls("listKeys")) == 2
    provider.predict(model(), PredictionInput(ROWS[1]))
    assert len(arm.calls("listKeys")) == 2  # the new key is cached


def test_persistent_401_is_auth_error_without_the_key(
    servers: tuple[ScoringStandin, ArmStandin], caplog: pytest.LogCaptureFixture
) -> None:
    scoring, arm = servers
    caplog.set_level(logging.DEBUG)
    stale = "stale-key-from-arm-9999999999"
    arm.endpoints["lead-endpoint"].keys = lambda: (stale, "stale-secondary-88888888")
    with pytest.raises(ProviderAuthError) as info:
        by_name(arm).predict(model(), PredictionInput(ROWS[0]))
    assert info.value.retryable is False and info.value.status == 401
    assert stale not in str(info.value) and stale not in repr(vars(info.value)) and stale not in caplog.text
    assert len(scoring.scoring_requests()) == 2  # first try, one refresh, then give up
    assert len(arm.calls("listKeys")) == 2


def test_wrong_arm_credential_is_auth_error(servers: tuple[ScoringStandin, ArmStandin]) -> None:
    scoring, arm = servers
    with pytest.raises(ProviderAuthError, match="credential") as info:
        by_name(arm, FakeCredential("not-the-arm-token-0000")).predict(model(), PredictionInput(ROWS[0]))
    assert "not-the-arm-token-0000" not in str(info.value)
    assert scoring.requests == []


def test_unknown_endpoint_names_what_to_check(servers: tuple[ScoringStandin, ArmStandin]) -> None:
    _, arm = servers
    with pytest.raises(ProviderRequestError, match="endpoint_name") as info:
        by_name(arm).predict(model(endpoint_name="no-such-endpoint"), PredictionInput(ROWS[0]))
    assert info.value.retryable is False and "no-such-endpoint" in str(info.value)


def test_arm_errors_are_typed_and_not_retried_by_the_sdk(servers: tuple[ScoringStandin, ArmStandin]) -> None:
    _, arm = servers
    arm.inject(Fault(status=500, body={"error": {"code": "InternalServerError", "message": "arm down"}}))
    with pytest.raises(ProviderServerError) as info:
        by_name(arm).predict(model(), PredictionInput(ROWS[0]))
    assert info.value.retryable is True and len(arm.requests) == 1  # one attempt: the core owns retries
    arm.inject(
        Fault(
            status=429,
            body={"error": {"code": "TooManyRequests", "message": "slow down"}},
            headers={"Retry-After": "3"},
        )
    )
    with pytest.raises(ProviderRateLimitError) as rate:
        by_name(arm).predict(model(), PredictionInput(ROWS[0]))
    assert rate.value.retry_after == pytest.approx(3.0)


def test_health_is_the_provisioning_state(servers: tuple[ScoringStandin, ArmStandin]) -> None:
    _, arm = servers
    provider = by_name(arm)
    report = provider.health_check()
    assert report.healthy is True and report.details["provisioning_state"] == "Succeeded"
    assert report.latency_ms is not None and report.latency_ms > 0
    arm.endpoints["lead-endpoint"].provisioning_state = "Updating"
    report = provider.health_check()
    assert report.healthy is False and "Updating" in (report.error or "")
    arm.endpoints.pop("lead-endpoint")
    report = provider.health_check()
    assert report.healthy is False and "ProviderRequestError" in (report.error or "")


def test_aml_token_endpoint(servers: tuple[ScoringStandin, ArmStandin]) -> None:
    scoring, arm = servers
    arm.endpoints["lead-endpoint"].auth_mode = "AMLToken"
    out = by_name(arm).predict(model(), PredictionInput(ROWS[0]))
    assert out.prediction == pytest.approx(scoring.scores([ROWS[0]])[0])
    assert len(arm.calls("token")) == 1 and arm.calls("listKeys") == []


def test_resource_manager_url_instead_of_the_env_var(
    servers: tuple[ScoringStandin, ArmStandin], monkeypatch: pytest.MonkeyPatch
) -> None:
    scoring, arm = servers
    monkeypatch.delenv("AZUREML_DEV_URL_MFE")
    cred = FakeCredential()
    out = by_name(arm, cred, resource_manager_url=arm.url).predict(model(), PredictionInput(ROWS[1]))
    assert out.prediction == pytest.approx(scoring.scores([ROWS[1]])[0])
    assert cred.scopes[0] == (f"{arm.url}/.default",)
    assert "AZUREML_CURRENT_CLOUD" not in os.environ


def test_a_burst_of_first_calls_resolves_once(servers: tuple[ScoringStandin, ArmStandin]) -> None:
    scoring, arm = servers
    provider = by_name(arm)
    barrier = threading.Barrier(6)

    def call(row: dict[str, Any]) -> float:
        barrier.wait()
        return provider.predict(model(), PredictionInput(row)).prediction

    from concurrent.futures import ThreadPoolExecutor

    rows = [{**ROWS[0], "visits": i} for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(call, rows))
    assert got == pytest.approx(scoring.scores(rows))
    assert len(arm.calls("listKeys")) == 1


def test_model_endpoint_field_can_be_an_endpoint_name(servers: tuple[ScoringStandin, ArmStandin]) -> None:
    scoring, arm = servers
    provider = by_name(arm, endpoint_name=None)
    named = ModelConfig(id="named", name="named", type="classification", provider="azure-ml", endpoint="lead-endpoint")
    assert provider.problems(named) == []
    out = provider.predict(named, PredictionInput(ROWS[0]))
    assert out.metadata["path"] == "by-name"
    assert out.prediction == pytest.approx(scoring.scores([ROWS[0]])[0])
