"""Failures on the wire become hotcrm_ai's typed errors, ``retryable`` right, secrets never shown."""

from __future__ import annotations

import itertools
import logging
import socket
import time

import pytest
from support.sagemaker_fixtures import aws_env, lead_model, lead_rows, provider_config, standin  # noqa: F401
from support.sagemaker_standin import ACCESS_KEY, SECRET_KEY

from hotcrm_ai.errors import (
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderModelError,
    ProviderRateLimitError,
    ProviderRequestError,
    ProviderResponseError,
    ProviderServerError,
    ProviderTimeoutError,
)
from hotcrm_ai.types import PredictionInput
from hotcrm_ai_sagemaker.provider import SageMakerProvider

ROW = PredictionInput(lead_rows(3)[2])
_ids = itertools.count(1)


@pytest.fixture
def provider(standin):  # noqa: F811
    p = SageMakerProvider(provider_config(standin.url))
    yield p
    p.close()


@pytest.fixture
def fresh_endpoint(standin, request):  # noqa: F811
    """A private endpoint per test, so queued faults and delays never leak into other tests."""
    name = f"ep-{next(_ids)}"
    standin.add_endpoint(name)
    return name


def test_model_error_carries_the_container_message_and_is_not_retried(provider, standin, fresh_endpoint) -> None:  # noqa: F811
    standin.fail_next(fresh_endpoint, "model_error", message="KeyError: 'industry' in preprocess()")
    with pytest.raises(ProviderModelError) as info:
        provider.predict(lead_model(fresh_endpoint), ROW)
    err = info.value
    assert "KeyError: 'industry' in preprocess()" in str(err)
    assert err.retryable is False and err.status == 424 and err.provider == "aws-sagemaker"
    assert err.details["original_message"] == "KeyError: 'industry' in preprocess()"
    assert err.details["original_status"] == 500
    assert err.details["log_stream_arn"].startswith("arn:aws:logs:")


def test_bare_424_is_still_a_model_error(provider, standin, fresh_endpoint) -> None:  # noqa: F811
    standin.fail_next(fresh_endpoint, "model_error_bare", message="Received server error (500): OOM in predict()")
    with pytest.raises(ProviderModelError, match=r"OOM in predict\(\)") as info:
        provider.predict(lead_model(fresh_endpoint), ROW)
    assert info.value.status == 424 and info.value.retryable is False


def test_container_rejecting_the_input_is_a_model_error_with_its_reason(provider) -> None:
    with pytest.raises(ProviderModelError, match="missing feature 'days_since_contact'"):
        provider.predict(lead_model(features=()), PredictionInput({"engagement": 1.0, "email_opens": 2}))


@pytest.mark.parametrize(
    ("kind", "error", "status", "retryable"),
    [
        ("throttle", ProviderRateLimitError, 400, True),
        ("server_error", ProviderServerError, 500, True),
        ("service_unavailable", ProviderServerError, 503, True),
        ("model_not_ready", ProviderServerError, 429, True),
        ("validation", ProviderRequestError, 400, False),
    ],
)
def test_service_errors_map_to_typed_errors(provider, standin, fresh_endpoint, kind, error, status, retryable) -> None:  # noqa: F811
    standin.fail_next(fresh_endpoint, kind)
    with pytest.raises(error) as info:
        provider.predict(lead_model(fresh_endpoint), ROW)
    assert type(info.value) is error
    assert info.value.status == status and info.value.retryable is retryable
    assert f"SageMaker InvokeEndpoint {fresh_endpoint}" in str(info.value)
    # one attempt only: botocore's own retries are off (the service retries)
    assert len(standin.invocations(fresh_endpoint)) == 1
    assert provider.predict(lead_model(fresh_endpoint), ROW).prediction is not None  # the fault was one-off


def test_unknown_endpoint_is_a_request_error(provider) -> None:
    with pytest.raises(ProviderRequestError, match=r"Endpoint no-such-endpoint of account \d+ not found") as info:
        provider.predict(lead_model("no-such-endpoint"), ROW)
    assert info.value.retryable is False


def test_endpoint_not_in_service_is_a_request_error(provider, standin, fresh_endpoint) -> None:  # noqa: F811
    standin.set_status(fresh_endpoint, "Updating")
    with pytest.raises(ProviderRequestError, match="not in service"):
        provider.predict(lead_model(fresh_endpoint), ROW)


def test_dropped_connection_is_a_connection_error(provider, standin, fresh_endpoint) -> None:  # noqa: F811
    standin.fail_next(fresh_endpoint, "drop")
    with pytest.raises(ProviderConnectionError) as info:
        provider.predict(lead_model(fresh_endpoint), ROW)
    assert info.value.retryable is True


def test_garbled_reply_is_a_response_error(provider, standin, fresh_endpoint) -> None:  # noqa: F811
    standin.fail_next(fresh_endpoint, "garbage")
    with pytest.raises(ProviderResponseError, match="not valid JSON"):
        provider.predict(lead_model(fresh_endpoint), ROW)


def test_nothing_listening_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = SageMakerProvider(provider_config(f"http://127.0.0.1:{port}"))
    with pytest.raises(ProviderConnectionError) as info:
        provider.predict(lead_model(), ROW)
    assert info.value.retryable is True


def test_read_timeout_follows_model_timeout(provider, standin, fresh_endpoint) -> None:  # noqa: F811
    standin.endpoints[fresh_endpoint].delay_s = 2.0
    started = time.monotonic()
    with pytest.raises(ProviderTimeoutError, match="read timeout") as info:
        provider.predict(lead_model(fresh_endpoint, timeout_s=0.3), ROW)
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 1.5
    assert info.value.retryable is True
    standin.endpoints[fresh_endpoint].delay_s = 0.0
    # a model with a longer timeout on the same provider waits for the same endpoint
    assert provider.predict(lead_model(fresh_endpoint, timeout_s=5), ROW).prediction is not None


@pytest.mark.parametrize("key", ["read_timeout_s", "timeout_s", "read_timeout"])
def test_configured_read_timeout_applies_to_models_without_their_own(standin, fresh_endpoint, key) -> None:  # noqa: F811
    provider = SageMakerProvider(provider_config(standin.url, **{key: 0.2}))
    standin.endpoints[fresh_endpoint].delay_s = 1.0
    with pytest.raises(ProviderTimeoutError):
        provider.predict(lead_model(fresh_endpoint), ROW)
    # review fix: the core's contract is that a model's timeout_s, when set, is the call's timeout
    assert provider.predict(lead_model(fresh_endpoint, timeout_s=5), ROW).prediction is not None


def test_wrong_secret_is_an_auth_error_without_the_secret(standin, caplog) -> None:  # noqa: F811
    caplog.set_level(logging.DEBUG)
    planted = "planted-secret-value-xyz-123456"
    provider = SageMakerProvider(
        provider_config(standin.url, credentials={"access_key_id": ACCESS_KEY, "secret_access_key": planted})
    )
    with pytest.raises(ProviderAuthError) as info:
        provider.predict(lead_model(), ROW)
    err = info.value
    assert err.retryable is False and err.status == 403
    assert "InvalidSignatureException" in str(err)
    for text in (str(err), repr(err), repr(err.details), repr(provider), repr(provider.settings), caplog.text):
        assert planted not in text
    assert standin.requests[-1].signature_valid is False


def test_unknown_access_key_is_an_auth_error(standin) -> None:  # noqa: F811
    provider = SageMakerProvider(
        provider_config(standin.url, credentials={"access_key_id": "testing-unknown", "secret_access_key": SECRET_KEY})
    )
    with pytest.raises(ProviderAuthError, match="UnrecognizedClientException"):
        provider.predict(lead_model(), ROW)


def test_missing_credentials_env_is_an_auth_error_naming_the_variable(standin, monkeypatch) -> None:  # noqa: F811
    creds = {"access_key_id": {"env": "SM_TEST_KEY_ID"}, "secret_access_key": {"env": "SM_TEST_SECRET"}}
    provider = SageMakerProvider(provider_config(standin.url, credentials=creds))
    with pytest.raises(ProviderAuthError, match="SM_TEST_KEY_ID"):
        provider.predict(lead_model(), ROW)
    # the variables appear later (rotation, late injection): the provider picks them up
    monkeypatch.setenv("SM_TEST_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("SM_TEST_SECRET", SECRET_KEY)
    assert provider.predict(lead_model(), ROW).prediction is not None


def test_rotated_secret_is_picked_up_after_an_auth_failure(standin, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv("SM_TEST_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("SM_TEST_SECRET", "an-old-revoked-secret")
    creds = {"access_key_id": {"env": "SM_TEST_KEY_ID"}, "secret_access_key": {"env": "SM_TEST_SECRET"}}
    provider = SageMakerProvider(provider_config(standin.url, credentials=creds))
    with pytest.raises(ProviderAuthError) as info:
        provider.predict(lead_model(), ROW)
    assert "an-old-revoked-secret" not in str(info.value)
    monkeypatch.setenv("SM_TEST_SECRET", SECRET_KEY)
    assert provider.predict(lead_model(), ROW).prediction is not None


def test_every_provider_error_is_a_provider_error(provider, standin, fresh_endpoint) -> None:  # noqa: F811
    seen = []
    for kind in ("model_error", "throttle", "server_error", "validation", "drop", "garbage"):
        standin.fail_next(fresh_endpoint, kind)
        with pytest.raises(ProviderError) as info:
            provider.predict(lead_model(fresh_endpoint), ROW)
        seen.append(type(info.value).__name__)
    assert seen == [
        "ProviderModelError",
        "ProviderRateLimitError",
        "ProviderServerError",
        "ProviderRequestError",
        "ProviderConnectionError",
        "ProviderResponseError",
    ]
