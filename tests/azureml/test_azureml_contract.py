"""The hotcrm_ai provider contract suite, run against the azure-ml provider on both paths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from support.azureml_standin import LEAD_FEATURES, ArmStandin, FakeCredential, Fault, ScoringStandin

from hotcrm_ai.testing import ProviderContract
from hotcrm_ai.types import FeatureSpec, ModelConfig, PredictionInput, ProviderConfig
from hotcrm_ai_azureml.provider import AzureMLProvider

# azure-ai-ml imports with marshmallow-4 deprecation warnings (third-party, at import time)
pytestmark = pytest.mark.filterwarnings("ignore::marshmallow.warnings.Marshmallow4Warning")


KEY_ENV = "HOTCRM_TEST_AZML_CONTRACT_KEY"
WRONG = "planted-wrong-secret-5f2c9a7e1b"


def _model() -> ModelConfig:
    return ModelConfig(
        id="lead-contract",
        name="Lead (contract)",
        type="classification",
        provider="azure-ml",
        timeout_s=5.0,
        features=tuple(FeatureSpec(n, dtype="boolean" if n == "referral" else "number") for n in LEAD_FEATURES),
    )


class _Common:
    @pytest.fixture
    def server(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScoringStandin]:
        with ScoringStandin() as scoring:
            monkeypatch.setenv(KEY_ENV, scoring.keys[0])
            yield scoring

    @pytest.fixture
    def model(self) -> ModelConfig:
        return _model()

    @pytest.fixture
    def inputs(self) -> list[PredictionInput]:
        return [
            PredictionInput({"engagement": e, "visits": v, "budget_k": b, "referral": r})
            for e, v, b, r in [(0.9, 10, 50.0, True), (0.2, 1, 4.0, False), (0.5, 5, 20.0, True), (0.7, 3, 9.0, False)]
        ]

    @pytest.fixture
    def planted_secret(self) -> str:
        return WRONG

    @pytest.fixture
    def slow_model(
        self, provider: AzureMLProvider, server: ScoringStandin, model: ModelConfig
    ) -> tuple[Any, ModelConfig]:
        server.inject(Fault(delay_s=2.0, path="/score"))
        return provider, attrs.evolve(model, timeout_s=0.3)


class TestDirectContract(_Common, ProviderContract):
    @pytest.fixture
    def provider(self, server: ScoringStandin) -> AzureMLProvider:
        return AzureMLProvider(
            ProviderConfig(provider="azure-ml", endpoint=server.scoring_uri, credentials={"api_key": {"env": KEY_ENV}})
        )

    @pytest.fixture
    def unauthorized_provider(self, server: ScoringStandin) -> AzureMLProvider:
        return AzureMLProvider(
            ProviderConfig(provider="azure-ml", endpoint=server.scoring_uri, credentials={"api_key": WRONG})
        )


class TestByNameContract(_Common, ProviderContract):
    @pytest.fixture
    def arm(self, server: ScoringStandin, monkeypatch: pytest.MonkeyPatch) -> Iterator[ArmStandin]:
        with ArmStandin() as arm:
            arm.add_endpoint("lead-endpoint", server)
            monkeypatch.setenv("AZUREML_DEV_URL_MFE", arm.url)
            yield arm

    def _provider(self, arm: ArmStandin, credential: FakeCredential) -> AzureMLProvider:
        return AzureMLProvider(
            ProviderConfig(
                provider="azure-ml",
                config={
                    "subscription_id": arm.subscription_id,
                    "resource_group": arm.resource_group,
                    "workspace_name": arm.workspace_name,
                    "endpoint_name": "lead-endpoint",
                },
            ),
            credential=credential,
        )

    @pytest.fixture
    def provider(self, arm: ArmStandin) -> AzureMLProvider:
        return self._provider(arm, FakeCredential(arm.token))

    @pytest.fixture
    def unauthorized_provider(self, arm: ArmStandin) -> AzureMLProvider:
        return self._provider(arm, FakeCredential(WRONG))
