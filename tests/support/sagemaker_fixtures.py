"""Fixtures and builders shared by tests/sagemaker (imported into each test module).

``aws_env`` isolates every test from the machine's AWS setup: no ~/.aws files, no AWS_* variables,
no instance-metadata lookups. Credentials in tests are fake strings that do not look like AWS keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotcrm_ai.types import FeatureSpec, ModelConfig, PredictionInput, ProviderConfig
from support.sagemaker_standin import ACCESS_KEY, LEAD_FEATURES, REGION, SECRET_KEY, SageMakerStandIn, running

_AWS_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SAGEMAKER",
    "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME",
    "AWS_ENDPOINT_URL_STS",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean AWS environment whose shared files live in ``tmp_path`` (returned)."""
    for name in _AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


@pytest.fixture(scope="module")
def standin() -> Iterator[SageMakerStandIn]:
    with running() as server:
        yield server


def provider_config(url: str, *, credentials: dict[str, Any] | None = None, **config: Any) -> ProviderConfig:
    """The stand-in's URL, region and (by default) explicit fake keys."""
    creds = {"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY} if credentials is None else credentials
    return ProviderConfig(
        provider="aws-sagemaker", credentials=creds, config={"region": REGION, "endpoint_url": url, **config}
    )


def lead_features() -> tuple[FeatureSpec, ...]:
    return tuple(FeatureSpec(name=n, dtype="number", minimum=-1e6, maximum=1e6) for n in LEAD_FEATURES)


def lead_model(model_id: str = "lead-scoring", **kw: Any) -> ModelConfig:
    kw.setdefault("features", lead_features())
    kw.setdefault("type", "classification")
    return ModelConfig(id=model_id, name=model_id, provider="aws-sagemaker", **kw)


def lead_rows(n: int, *, start: float = -2.0, step: float = 0.7) -> list[dict[str, Any]]:
    """``n`` distinct leads spread over the model's range (so probabilities differ)."""
    return [
        {"engagement": start + i * step, "email_opens": (i * 3) % 7, "days_since_contact": (i * 11) % 30}
        for i in range(n)
    ]


def inputs(rows: list[dict[str, Any]]) -> list[PredictionInput]:
    return [PredictionInput(features=r) for r in rows]
