"""health_check (DescribeEndpoint) and validate (no network), against the stand-in and against moto."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator

import pytest
from support.sagemaker_fixtures import aws_env, lead_model, lead_rows, provider_config, standin  # noqa: F401
from support.sagemaker_standin import ACCESS_KEY, REGION, SECRET_KEY

from hotcrm_ai.types import PredictionInput, ProviderConfig
from hotcrm_ai_sagemaker.provider import SageMakerProvider

_ids = itertools.count(1)


@pytest.fixture
def endpoint(standin) -> str:  # noqa: F811
    name = f"health-{next(_ids)}"
    standin.add_endpoint(name)
    return name


def test_in_service_endpoint_is_healthy_with_latency(standin, endpoint) -> None:  # noqa: F811
    provider = SageMakerProvider(provider_config(standin.url, health_endpoints=[endpoint]))
    report = provider.health_check()
    assert report.healthy is True and report.error is None
    assert report.latency_ms is not None and report.latency_ms > 0
    assert report.details["endpoints"] == {endpoint: "InService"}
    (call,) = [r for r in standin.requests if r.operation == "DescribeEndpoint" and endpoint.encode() in r.body]
    assert call.signature_valid is True and call.headers["X-Amz-Target"] == "SageMaker.DescribeEndpoint"


@pytest.mark.parametrize(
    "status", ["Creating", "Updating", "SystemUpdating", "RollingBack", "OutOfService", "Deleting"]
)
def test_any_status_but_in_service_is_unhealthy(standin, endpoint, status) -> None:  # noqa: F811
    standin.set_status(endpoint, status)
    report = SageMakerProvider(provider_config(standin.url)).health_check(lead_model(endpoint))
    assert report.healthy is False
    assert report.error == f"endpoint {endpoint} is {status}"
    assert report.details["endpoints"] == {endpoint: status}


def test_failed_endpoint_reports_the_failure_reason(standin, endpoint) -> None:  # noqa: F811
    standin.set_status(endpoint, "Failed", "ResourceLimitExceeded: ml.g5.2xlarge quota is 0")
    report = SageMakerProvider(provider_config(standin.url)).health_check(endpoints=[endpoint])
    assert report.healthy is False
    assert "Failed" in report.error and "ml.g5.2xlarge quota is 0" in report.error
    assert report.details["failure_reasons"][endpoint].startswith("ResourceLimitExceeded")


def test_health_follows_the_endpoints_the_provider_serves(standin, endpoint) -> None:  # noqa: F811
    provider = SageMakerProvider(provider_config(standin.url))
    provider.predict(lead_model(endpoint), PredictionInput(lead_rows(1)[0]))
    assert provider.health_check().details["endpoints"] == {endpoint: "InService"}
    standin.set_status(endpoint, "Updating")
    assert provider.health_check().healthy is False
    standin.set_status(endpoint, "InService")
    assert provider.health_check().healthy is True


def test_provider_endpoint_name_is_checked(standin, endpoint) -> None:  # noqa: F811
    config = provider_config(standin.url)
    named = ProviderConfig(
        provider="aws-sagemaker", endpoint=endpoint, credentials=config.credentials, config=config.config
    )
    provider = SageMakerProvider(named)
    standin.set_status(endpoint, "Creating")
    report = provider.health_check()
    assert report.healthy is False and report.details["endpoints"] == {endpoint: "Creating"}


def test_with_nothing_known_every_listed_endpoint_counts(standin, endpoint) -> None:  # noqa: F811
    provider = SageMakerProvider(provider_config(standin.url))
    report = provider.health_check()
    assert report.details["check"] == "ListEndpoints"
    assert report.details["endpoints"][endpoint] == "InService"
    assert report.healthy is all(s == "InService" for s in report.details["endpoints"].values())


def test_missing_endpoint_is_unhealthy_not_raised(standin) -> None:  # noqa: F811
    report = SageMakerProvider(provider_config(standin.url)).health_check(endpoints=["gone"])
    assert report.healthy is False
    assert "Could not find endpoint" in report.error and report.details["error_type"] == "ProviderRequestError"


def test_bad_credentials_make_health_unhealthy_without_leaking(standin, caplog) -> None:  # noqa: F811
    caplog.set_level(logging.DEBUG)
    planted = "planted-health-secret-987654321"
    provider = SageMakerProvider(
        provider_config(standin.url, credentials={"access_key_id": ACCESS_KEY, "secret_access_key": planted})
    )
    report = provider.health_check(endpoints=["lead-scoring"])
    assert report.healthy is False and "InvalidSignatureException" in report.error
    assert planted not in repr(report) and planted not in caplog.text


def test_unreachable_control_plane_is_unhealthy() -> None:
    provider = SageMakerProvider(provider_config("http://127.0.0.1:9", connect_timeout_s=0.5))
    report = provider.health_check(endpoints=["x"])
    assert report.healthy is False and report.details["error_type"] == "ProviderConnectionError"


# ------------------------------------------------------------------------------ moto control plane


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_describe_endpoint_against_moto_with_a_separate_control_url(standin, moto_server) -> None:  # noqa: F811
    import boto3
    from moto.sagemaker.models import sagemaker_backends

    control = boto3.client(
        "sagemaker",
        region_name=REGION,
        endpoint_url=moto_server,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    control.create_model(
        ModelName="lead-moto",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lead:1"},
    )
    control.create_endpoint_config(
        EndpointConfigName="lead-moto-cfg",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "lead-moto",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    control.create_endpoint(EndpointName="lead-moto", EndpointConfigName="lead-moto-cfg")
    provider = SageMakerProvider(provider_config(standin.url, control_endpoint_url=moto_server))
    model = lead_model("lead-moto")
    assert provider.health_check(model).healthy is True
    backend = next(b[REGION] for b in sagemaker_backends.values() if "lead-moto" in b[REGION].endpoints)
    backend.endpoints["lead-moto"].endpoint_status = "Failed"
    report = provider.health_check(model)
    assert report.healthy is False and report.details["endpoints"] == {"lead-moto": "Failed"}


# ------------------------------------------------------------------------------ validate


def test_validate_true_with_region_and_keys(standin) -> None:  # noqa: F811
    before = len(standin.requests)
    provider = SageMakerProvider(provider_config(standin.url))
    assert provider.validate() is True and provider.problems() == []
    assert len(standin.requests) == before  # no network


def test_validate_false_without_region(standin, caplog) -> None:  # noqa: F811
    config = ProviderConfig(
        provider="aws-sagemaker",
        credentials={"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY},
        config={"endpoint_url": standin.url},
    )
    provider = SageMakerProvider(config)
    assert provider.validate() is False
    assert any("no region" in p for p in provider.problems())
    assert SECRET_KEY not in caplog.text


def test_validate_takes_region_from_env(monkeypatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")
    provider = SageMakerProvider(
        ProviderConfig(
            provider="aws-sagemaker", credentials={"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}
        )
    )
    assert provider.validate() is True


def test_validate_false_when_credential_env_unset(monkeypatch) -> None:
    creds = {"access_key_id": {"env": "SM_V_KEY"}, "secret_access_key": {"env": "SM_V_SECRET"}}
    provider = SageMakerProvider(provider_config("http://127.0.0.1:9", credentials=creds))
    assert provider.validate() is False
    assert provider.problems() == ["credential environment variables not set: SM_V_KEY, SM_V_SECRET"]
    monkeypatch.setenv("SM_V_KEY", ACCESS_KEY)
    monkeypatch.setenv("SM_V_SECRET", SECRET_KEY)
    assert provider.validate() is True


def test_validate_false_with_no_credentials_anywhere() -> None:
    provider = SageMakerProvider(provider_config("http://127.0.0.1:9", credentials={}))
    assert provider.validate() is False
    assert provider.problems() == ["no AWS credentials found in the default chain"]


def test_validate_false_for_a_missing_profile() -> None:
    provider = SageMakerProvider(provider_config("http://127.0.0.1:9", credentials={}, profile="nope"))
    assert provider.validate() is False
    assert any("ProfileNotFound" in p for p in provider.problems())


def test_each_endpoint_is_checked_on_its_own(standin, endpoint) -> None:  # noqa: F811
    standin.set_status(endpoint, "Creating")
    report = SageMakerProvider(provider_config(standin.url)).health_check(endpoints=["gone", endpoint, "lead-scoring"])
    assert report.healthy is False
    assert report.details["endpoints"] == {"gone": "Unknown", endpoint: "Creating", "lead-scoring": "InService"}
    assert "Could not find endpoint" in report.error and f"endpoint {endpoint} is Creating" in report.error
