"""Credential sources (keys, profile, default chain, assumed role via STS) and configuration checks."""

from __future__ import annotations

import logging

import pytest
from support.sagemaker_fixtures import aws_env, lead_model, lead_rows, provider_config, standin  # noqa: F401
from support.sagemaker_standin import ACCESS_KEY, REGION, ROLE_ARN, SECRET_KEY

from hotcrm_ai.errors import ConfigError, ProviderAuthError
from hotcrm_ai.secrets import Secret
from hotcrm_ai.types import PredictionInput, ProviderConfig
from hotcrm_ai_sagemaker.provider import SageMakerProvider
from hotcrm_ai_sagemaker.settings import MAX_PAYLOAD_BYTES, SageMakerSettings

ROW = PredictionInput(lead_rows(2)[1])


def _last_invoke(standin):  # noqa: F811
    return standin.invocations()[-1]


def test_default_chain_reads_aws_env(standin, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", REGION)
    provider = SageMakerProvider(ProviderConfig(provider="aws-sagemaker", endpoint=standin.url))
    assert provider.settings.credential_mode == "default-chain"
    assert provider.validate() is True
    assert provider.predict(lead_model(), ROW).prediction is not None
    assert _last_invoke(standin).signature_valid is True


def test_profile_from_shared_credentials_file(standin, aws_env) -> None:  # noqa: F811
    (aws_env / "aws-credentials").write_text(
        f"[crm]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n", encoding="utf-8"
    )
    (aws_env / "aws-config").write_text(f"[profile crm]\nregion = {REGION}\n", encoding="utf-8")
    provider = SageMakerProvider(
        ProviderConfig(provider="aws-sagemaker", config={"profile": "crm", "endpoint_url": standin.url})
    )
    assert provider.settings.credential_mode == "profile"
    assert provider.validate() is True  # region comes from the profile
    out = provider.predict(lead_model(), ROW)
    assert out.metadata["region"] == REGION
    assert _last_invoke(standin).access_key == ACCESS_KEY


def test_keys_from_env_references(standin, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv("CRM_SM_KEY", ACCESS_KEY)
    monkeypatch.setenv("CRM_SM_SECRET", SECRET_KEY)
    creds = {"accessKeyId": {"env": "CRM_SM_KEY"}, "secretAccessKey": {"env": "CRM_SM_SECRET"}, "region": REGION}
    config = ProviderConfig(provider="aws-sagemaker", endpoint=standin.url, credentials=creds)
    provider = SageMakerProvider(config)
    assert provider.predict(lead_model(), ROW).prediction is not None
    assert SECRET_KEY not in repr(provider.settings) and SECRET_KEY not in repr(config)


def test_assumed_role_signs_with_temporary_credentials(standin) -> None:  # noqa: F811
    before = len(standin.assumed_roles)
    provider = SageMakerProvider(
        provider_config(standin.url, role_arn=ROLE_ARN, role_session_name="crm-scoring", sts_endpoint_url=standin.url)
    )
    assert provider.settings.credential_mode == "keys+role"
    assert provider.validate() is True
    for row in lead_rows(3):
        provider.predict(lead_model(), PredictionInput(row))
    (assumed,) = standin.assumed_roles[before:]  # assumed once, reused until near expiry
    assert assumed == {"role_arn": ROLE_ARN, "external_id": "", "session": "crm-scoring", "caller": ACCESS_KEY}
    sts_call = [r for r in standin.requests if r.operation == "AssumeRole"][-1]
    assert sts_call.signature_valid and "/sts/aws4_request" in sts_call.headers["Authorization"]
    invoke = _last_invoke(standin)
    assert invoke.access_key.startswith("testing-assumed-") and invoke.signature_valid
    assert invoke.headers["X-Amz-Security-Token"].startswith("testing-session-token-")


def test_debug_logs_never_show_credentials(standin, caplog) -> None:  # noqa: F811
    caplog.set_level(logging.DEBUG)
    standin.credentials["testing-temp-key-2"] = ("testing-temp-secret-2", "testing-temp-token-2")
    creds = {
        "access_key_id": "testing-temp-key-2",
        "secret_access_key": "testing-temp-secret-2",
        "session_token": "testing-temp-token-2",
    }
    SageMakerProvider(provider_config(standin.url, credentials=creds)).predict(lead_model(), ROW)
    role = SageMakerProvider(provider_config(standin.url, role_arn=ROLE_ARN, sts_endpoint_url=standin.url))
    role.predict(lead_model(), ROW)
    assumed_key = _last_invoke(standin).access_key
    assumed_secret, assumed_token = standin.credentials[assumed_key]
    assert "X-Amz-Security-Token" in caplog.text and "AssumeRoleResponse" in caplog.text  # botocore did log them
    for value in ("testing-temp-secret-2", "testing-temp-token-2", SECRET_KEY, assumed_secret, assumed_token):
        assert value not in caplog.text


def test_role_with_external_id(standin, monkeypatch) -> None:  # noqa: F811
    role = "arn:aws:iam::123456789012:role/partner-scoring"
    standin.allowed_roles[role] = "ext-4242"
    monkeypatch.setenv("CRM_EXTERNAL_ID", "ext-4242")
    creds = {"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY, "external_id": {"env": "CRM_EXTERNAL_ID"}}
    provider = SageMakerProvider(
        provider_config(standin.url, credentials=creds, role_arn=role, sts_endpoint_url=standin.url)
    )
    assert provider.predict(lead_model(), ROW).prediction is not None
    assert standin.assumed_roles[-1]["external_id"] == "ext-4242"


def test_denied_role_is_an_auth_error(standin) -> None:  # noqa: F811
    provider = SageMakerProvider(
        provider_config(
            standin.url, role_arn="arn:aws:iam::123456789012:role/not-allowed", sts_endpoint_url=standin.url
        )
    )
    with pytest.raises(ProviderAuthError, match="AccessDenied") as info:
        provider.predict(lead_model(), ROW)
    assert info.value.retryable is False


def test_explicit_session_token_is_sent(standin) -> None:  # noqa: F811
    standin.credentials["testing-temp-key"] = ("testing-temp-secret", "testing-temp-token")
    creds = {
        "access_key_id": "testing-temp-key",
        "secret_access_key": "testing-temp-secret",
        "session_token": "testing-temp-token",
    }
    provider = SageMakerProvider(provider_config(standin.url, credentials=creds))
    provider.predict(lead_model(), ROW)
    assert _last_invoke(standin).headers["X-Amz-Security-Token"] == "testing-temp-token"


# ------------------------------------------------------------------------------ settings


def _settings(**kw) -> SageMakerSettings:
    creds = kw.pop("credentials", {})
    endpoint = kw.pop("endpoint", None)
    return SageMakerSettings.from_provider_config(
        ProviderConfig(provider="aws-sagemaker", endpoint=endpoint, credentials=creds, config=kw)
    )


def test_settings_defaults() -> None:
    s = _settings()
    assert s.region is None and s.endpoint_url is None and s.credential_mode == "default-chain"
    assert s.connect_timeout_s == 5.0 and s.read_timeout_s is None
    assert s.max_payload_bytes == MAX_PAYLOAD_BYTES == 6 * 1024 * 1024


def test_provider_endpoint_is_a_url_or_an_endpoint_name() -> None:
    assert _settings(endpoint="http://127.0.0.1:4566/").endpoint_url == "http://127.0.0.1:4566"
    named = _settings(endpoint="lead-scoring-prod")
    assert named.endpoint_url is None and named.default_endpoint_name == "lead-scoring-prod"


def test_control_url_follows_runtime_url_unless_set() -> None:
    assert _settings(endpoint_url="http://a:1").control_url() == "http://a:1"
    assert _settings(endpoint_url="http://a:1", control_endpoint_url="http://b:2").control_url() == "http://b:2"


@pytest.mark.parametrize(
    ("config", "credentials", "message"),
    [
        ({"region": "Europe"}, {}, "region: expected an AWS region name"),
        ({"region": 5}, {}, "region: expected a string, got int"),
        ({"endpoint_url": "ftp://x"}, {}, "endpoint_url: expected an http"),
        ({"connect_timeout_s": 0}, {}, "connect_timeout_s: expected a number >= 0.001, got 0.0"),
        ({"read_timeout_s": float("nan")}, {}, "read_timeout_s: expected a finite number"),
        ({"max_concurrency": 2.5}, {}, "max_concurrency: expected an integer"),
        ({"max_payload_bytes": 7 * 1024 * 1024}, {}, "max_payload_bytes: expected an integer >= 64 and <= 6291456"),
        ({"role_arn": "admin"}, {}, "role_arn: expected arn:aws:iam::"),
        ({"role_duration_s": 60, "role_arn": ROLE_ARN}, {}, "role_duration_s"),
        ({"health_endpoints": "one"}, {}, "health_endpoints: expected a list"),
        ({"region": "eu-west-1", "region_name": "eu-west-2"}, {}, "'region' and 'region_name' both given"),
        ({}, {"access_key_id": "k"}, "credentials.secret_access_key: expected it together"),
        ({}, {"session_token": "t"}, "session_token: expected only with"),
        ({"profile": "p"}, {"access_key_id": "k", "secret_access_key": "s"}, "profile and explicit keys"),
        ({}, {"password": "x"}, "credentials] unknown key 'password'"),
        ({}, {"external_id": "x"}, "external_id: expected only together with role_arn"),
    ],
)
def test_bad_settings_name_the_key(config, credentials, message) -> None:
    with pytest.raises(ConfigError) as info:
        _settings(credentials=credentials, **config)
    assert message in str(info.value)
    assert "providers.aws-sagemaker" in str(info.value)


def test_unknown_config_keys_are_errors_with_the_closest_name() -> None:
    with pytest.raises(ConfigError, match=r"aws-sagemaker.config\] unknown key 'regoin'; did you mean `region`"):
        _settings(region="eu-west-1", regoin="typo")


def test_settings_repr_hides_secret_values() -> None:
    s = _settings(credentials={"access_key_id": "testing-visible-id", "secret_access_key": "testing-hidden-secret"})
    assert "testing-hidden-secret" not in repr(s) and "testing-visible-id" not in repr(s)
    assert isinstance(s.secret_access_key, Secret)


def test_factory_errors_name_the_key_before_boto3_is_touched() -> None:
    with pytest.raises(ConfigError, match="max_concurrency"):
        SageMakerProvider(ProviderConfig(provider="aws-sagemaker", config={"max_concurrency": 0}))


def test_scrub_text_blanks_known_credential_shapes() -> None:
    from hotcrm_ai_sagemaker.logscrub import scrub_text

    raw = (
        "<SecretAccessKey>abc/DEF+123</SecretAccessKey><SessionToken>tok==</SessionToken>\n"
        "x-amz-security-token:tok-line\n"
        "headers={'X-Amz-Security-Token': b'tok-bytes', 'Content-Type': b'application/json'}"
    )
    clean = scrub_text(raw)
    for value in ("abc/DEF+123", "tok==", "tok-line", "tok-bytes"):
        assert value not in clean
    assert "application/json" in clean and "<SecretAccessKey>**********</SecretAccessKey>" in clean


def test_endpoint_urls_take_env_references_and_are_masked_when_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTCRM_TEST_SM_VPCE", "https://vpce.example.internal/?token=planted-vpce-token")
    config = ProviderConfig(
        provider="aws-sagemaker",
        config={
            "region": "eu-west-1",
            "endpoint_url": {"env": "HOTCRM_TEST_SM_VPCE"},
            "sts_endpoint_url": "https://sts.example",
        },
    )
    settings = SageMakerSettings.from_provider_config(config)
    assert settings.runtime_url() == "https://vpce.example.internal/?token=planted-vpce-token"
    assert settings.sts_endpoint_url == "https://sts.example"
    assert "planted-vpce-token" not in repr(settings) and "vpce.example.internal" in repr(settings)
    with pytest.raises(ConfigError) as info:
        SageMakerSettings.from_provider_config(
            ProviderConfig(provider="aws-sagemaker", config={"endpoint_url": "ftp://x/?token=planted-vpce-token"})
        )
    assert "endpoint_url: expected an http(s) URL" in str(info.value) and "planted" not in str(info.value)
