"""boto3 sessions and clients from ``SageMakerSettings``: the one place secrets are revealed.

Credential sources, in order: explicit keys (``Secret`` references, read when the session is built),
a named profile, or boto3's default chain (env, shared files, SSO, container/instance roles). A
``role_arn`` is assumed on top of whichever source, through botocore's own refreshing
``AssumeRoleCredentialFetcher`` (new STS credentials before the old expire). botocore's retries are
off: the prediction service owns retries, backoff and the circuit breaker.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)
from botocore.session import Session as BotocoreSession

from hotcrm_ai_sagemaker.settings import SageMakerSettings

USER_AGENT = "hotcrm-ai-sagemaker"

_loader_lock = threading.Lock()
_loader: Any = None


def _core_session() -> BotocoreSession:
    """A fresh botocore session sharing one read-only data loader: without it every session parses the
    service models again (200-500 ms per provider; 10 ms with the shared loader). The loader holds
    AWS API descriptions only, nothing per caller."""
    global _loader
    core = BotocoreSession()
    with _loader_lock:
        if _loader is None:
            _loader = core.get_component("data_loader")
        else:
            core.register_component("data_loader", _loader)
    return core


def client_config(settings: SageMakerSettings, read_timeout_s: float) -> Config:
    return Config(
        connect_timeout=settings.connect_timeout_s,
        read_timeout=read_timeout_s,
        retries={"total_max_attempts": 1, "mode": "standard"},
        max_pool_connections=max(10, settings.max_concurrency),
        user_agent_extra=USER_AGENT,
        tcp_keepalive=True,
    )


def secret_values(settings: SageMakerSettings) -> list[str]:
    """Every configured secret value that is currently resolvable, for scrubbing messages."""
    values = []
    for secret in (settings.access_key_id, settings.secret_access_key, settings.session_token, settings.external_id):
        if secret is not None and secret.is_set():
            values.append(secret.reveal())
    return values


class _StaticProvider(CredentialProvider):
    """Hands botocore one credentials object (here: the assumed role's refreshing credentials)."""

    METHOD = "hotcrm-ai-assume-role"
    CANONICAL_NAME = "custom-hotcrm-ai-assume-role"

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


def _base_session(settings: SageMakerSettings) -> boto3.Session:
    region = settings.region_name() or os.environ.get("AWS_REGION") or None
    if settings.access_key_id is not None and settings.secret_access_key is not None:
        return boto3.Session(
            aws_access_key_id=settings.access_key_id.reveal(),
            aws_secret_access_key=settings.secret_access_key.reveal(),
            aws_session_token=settings.session_token.reveal() if settings.session_token is not None else None,
            region_name=region,
            botocore_session=_core_session(),
        )
    if settings.profile:
        return boto3.Session(profile_name=settings.profile, region_name=region, botocore_session=_core_session())
    return boto3.Session(region_name=region, botocore_session=_core_session())


def build_session(settings: SageMakerSettings) -> boto3.Session:
    """A session signing as the configured identity (assuming ``role_arn`` lazily, on first call)."""
    base = _base_session(settings)
    if not settings.role_arn:
        return base
    region = base.region_name
    sts_config = client_config(settings, settings.read_timeout_s or 30.0)

    def sts_client(service_name: str, **kwargs: Any) -> Any:
        return base.client(
            service_name, region_name=region, endpoint_url=settings.sts_endpoint_url, config=sts_config, **kwargs
        )

    extra: dict[str, Any] = {"RoleSessionName": settings.role_session_name, "DurationSeconds": settings.role_duration_s}
    if settings.external_id is not None:
        extra["ExternalId"] = settings.external_id.reveal()
    source = base.get_credentials()
    if source is None:
        from botocore.exceptions import NoCredentialsError

        raise NoCredentialsError()
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=sts_client, source_credentials=source, role_arn=settings.role_arn, extra_args=extra
    )
    credentials = DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method="assume-role")
    core = _core_session()
    core.register_component("credential_provider", CredentialResolver([_StaticProvider(credentials)]))
    return boto3.Session(botocore_session=core, region_name=region)


def make_client(
    session: boto3.Session,
    service: str,
    settings: SageMakerSettings,
    *,
    endpoint_url: str | None,
    read_timeout_s: float,
) -> Any:
    return session.client(service, endpoint_url=endpoint_url, config=client_config(settings, read_timeout_s))


def resolve_region(settings: SageMakerSettings) -> str | None:
    """The configured region, else AWS_REGION (set by Lambda and read by the other AWS SDKs, not by
    botocore), else boto3's own lookup (AWS_DEFAULT_REGION, the profile's region)."""
    explicit = settings.region_name() or os.environ.get("AWS_REGION")
    if explicit:
        return explicit
    return boto3.Session(profile_name=settings.profile, botocore_session=_core_session()).region_name


def credentials_resolvable(settings: SageMakerSettings) -> tuple[bool, str]:
    """Whether a credential source is there, without calling AWS and without printing anything secret.
    (A role is checked by its source credentials; assuming it needs a network call.)"""
    try:
        if settings.access_key_id is not None and settings.secret_access_key is not None:
            missing = [s.env for s in (settings.access_key_id, settings.secret_access_key) if not s.is_set()]
            if missing:
                return False, f"credential environment variables not set: {', '.join(str(m) for m in missing)}"
            return True, "explicit keys"
        base = _base_session(settings)
        if base.get_credentials() is None:
            return False, "no AWS credentials found in the default chain"
        return True, settings.credential_mode
    except Exception as exc:
        return False, f"credentials could not be loaded ({type(exc).__name__})"
