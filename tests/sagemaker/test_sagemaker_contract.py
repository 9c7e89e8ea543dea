"""The core's provider contract suite, run against SageMakerProvider and the stand-in."""

from __future__ import annotations

import pytest
from support.sagemaker_fixtures import aws_env, lead_model, lead_rows, provider_config, standin  # noqa: F401
from support.sagemaker_standin import ACCESS_KEY

from hotcrm_ai.testing import ProviderContract
from hotcrm_ai.types import PredictionInput
from hotcrm_ai_sagemaker.provider import SageMakerProvider

PLANTED = "planted-contract-secret-5f1e2d3c4b"


class TestSageMakerContract(ProviderContract):
    @pytest.fixture
    def provider(self, standin):  # noqa: F811
        p = SageMakerProvider(provider_config(standin.url))
        yield p
        p.close()

    @pytest.fixture
    def model(self):
        return lead_model(parameters={"batch_format": "instances"})

    @pytest.fixture
    def inputs(self):
        return [PredictionInput(r) for r in lead_rows(12)[::3]]  # probabilities 0.04 .. 0.98: labels 0 and 1

    @pytest.fixture
    def unauthorized_provider(self, standin):  # noqa: F811
        return SageMakerProvider(
            provider_config(standin.url, credentials={"access_key_id": ACCESS_KEY, "secret_access_key": PLANTED})
        )

    @pytest.fixture
    def slow_model(self, standin):  # noqa: F811
        if "lead-slow" not in standin.endpoints:
            standin.add_endpoint("lead-slow", delay_s=3.0)
        return SageMakerProvider(provider_config(standin.url)), lead_model("lead-slow", timeout_s=0.5)

    @pytest.fixture
    def planted_secret(self):
        return PLANTED


class TestSageMakerContractWithoutBatchFormat(TestSageMakerContract):
    """The same contract for a model served row by row (bounded concurrency), in CSV."""

    @pytest.fixture
    def model(self):
        return lead_model("lead-label", parameters={"content_type": "csv", "accept": "json"})
