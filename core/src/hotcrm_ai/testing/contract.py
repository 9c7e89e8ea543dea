"""The provider contract suite (see ``hotcrm_ai.testing``)."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from hotcrm_ai.errors import ProviderAuthError, ProviderError, ProviderTimeoutError
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.types import HealthReport, ModelConfig, PredictionInput, PredictionOutput

TIMEOUT_SLACK_S = 2.0  # how far past model.timeout_s a timed-out call may return (thread scheduling, CI)


def _texts(exc: BaseException) -> str:
    parts = [str(exc), repr(exc)]
    for value in vars(exc).values():
        parts.append(repr(value))
    return "\n".join(parts)


class ProviderContract:
    """Behaviour every ``BaseMLProvider`` must show. Fixtures: see the module docstring."""

    # -- shape -----------------------------------------------------------------------------

    def test_is_a_provider(self, provider: BaseMLProvider) -> None:
        assert isinstance(provider, BaseMLProvider)
        assert provider.validate() is True

    def test_predict_returns_output(
        self, provider: BaseMLProvider, model: ModelConfig, inputs: list[PredictionInput]
    ) -> None:
        out = provider.predict(model, inputs[0])
        assert isinstance(out, PredictionOutput)
        assert 0 <= out.confidence <= 100
        assert out.prediction is not None

    def test_predictions_depend_on_input(
        self, provider: BaseMLProvider, model: ModelConfig, inputs: list[PredictionInput]
    ) -> None:
        answers = {repr(provider.predict(model, inp).prediction) for inp in inputs}
        assert len(answers) > 1, "different inputs gave the same answer: is the provider really calling the model?"

    def test_batch_matches_single_in_order(
        self, provider: BaseMLProvider, model: ModelConfig, inputs: list[PredictionInput]
    ) -> None:
        batch = provider.batch_predict(model, inputs)
        assert len(batch) == len(inputs)
        assert all(isinstance(o, PredictionOutput) for o in batch)
        singles = [provider.predict(model, inp) for inp in inputs]
        assert [repr(o.prediction) for o in batch] == [repr(o.prediction) for o in singles]

    def test_empty_batch(self, provider: BaseMLProvider, model: ModelConfig) -> None:
        assert provider.batch_predict(model, []) == []

    def test_health_report(self, provider: BaseMLProvider) -> None:
        report = provider.health_check()
        assert isinstance(report, HealthReport)
        assert report.healthy is True, report.error
        assert report.latency_ms is not None and report.latency_ms >= 0

    # -- errors ----------------------------------------------------------------------------

    def test_bad_credentials_are_a_typed_auth_error(
        self,
        unauthorized_provider: BaseMLProvider,
        model: ModelConfig,
        inputs: list[PredictionInput],
        planted_secret: str,
    ) -> None:
        with pytest.raises(ProviderAuthError) as info:
            unauthorized_provider.predict(model, inputs[0])
        assert info.value.retryable is False
        assert planted_secret not in _texts(info.value)

    def test_timeout_is_honoured(
        self, slow_model: tuple[BaseMLProvider, ModelConfig], inputs: list[PredictionInput]
    ) -> None:
        provider, model = slow_model
        assert model.timeout_s is not None
        started = time.monotonic()
        with pytest.raises(ProviderTimeoutError) as info:
            provider.predict(model, inputs[0])
        elapsed = time.monotonic() - started
        assert elapsed < model.timeout_s + TIMEOUT_SLACK_S
        assert info.value.retryable is True

    def test_unhealthy_endpoint_reports_without_raising(self, unauthorized_provider: BaseMLProvider) -> None:
        report = unauthorized_provider.health_check()
        assert isinstance(report, HealthReport)

    # -- secrets ---------------------------------------------------------------------------

    def test_no_secret_in_repr_or_errors(
        self,
        provider: BaseMLProvider,
        unauthorized_provider: BaseMLProvider,
        model: ModelConfig,
        inputs: list[PredictionInput],
        planted_secret: str,
        caplog: Any,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        assert planted_secret not in repr(provider)
        assert planted_secret not in repr(provider.config)
        assert planted_secret not in str(provider.config)
        try:
            unauthorized_provider.predict(model, inputs[0])
        except ProviderError as exc:
            assert planted_secret not in _texts(exc)
        report = unauthorized_provider.health_check()
        assert planted_secret not in repr(report)
        assert planted_secret not in caplog.text
