"""``[providers.aws-sagemaker]`` read into one frozen object, checked once, at provider construction.

Pure Python (no boto3): a bad value is a ``ConfigError`` naming the key before any SDK is imported.
Credentials stay ``Secret`` objects here; they are revealed only when the boto3 session is built.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar

import attrs

from hotcrm_ai.errors import ConfigError
from hotcrm_ai.options import OptionError, at_least, between, non_empty, parse_options
from hotcrm_ai.secrets import Secret, mask_url
from hotcrm_ai.types import ProviderConfig

log = logging.getLogger("hotcrm_ai.sagemaker")

#: InvokeEndpoint's request body limit (the BodyBlob max in the AWS API model: 6 MiB).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024

_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+-\d+$|^local$")


def _url(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        shown = mask_url(value) if isinstance(value, str) else value
        raise ConfigError(f"providers.aws-sagemaker.{key}: expected an http(s) URL, got {shown!r:.80}")
    return value.rstrip("/")


def _http_url(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An http(s) URL; a ``Secret`` one is checked only when its value is at hand, and never shown."""
    text = value.reveal() if isinstance(value, Secret) and value.is_set() else value
    if isinstance(text, str) and not re.match(r"^https?://[^\s/]+", text):
        raise OptionError(attribute.name, "an http(s) URL", "a value without http(s)://host")


def _masked(value: str | None) -> str:
    return repr(None if value is None else mask_url(value))


def _revealed(value: Secret | None) -> str | None:
    return value.reveal() if value is not None else None


@attrs.frozen
class SageMakerConfig:
    """``[providers.aws-sagemaker] config``: the declared options. Accepted spellings (``ALIASES``):
    ours, boto3's, and the camelCase of the TypeScript version this replaces."""

    ALIASES: ClassVar[dict[str, str]] = {
        "region_name": "region",
        "aws_region": "region",
        "runtime_endpoint_url": "endpoint_url",
        "sagemaker_endpoint_url": "control_endpoint_url",
        "profile_name": "profile",
        "connect_timeout": "connect_timeout_s",
        "read_timeout": "read_timeout_s",
        "timeout_s": "read_timeout_s",
        "timeout": "read_timeout_s",
    }
    region: str | None = attrs.field(default=None, validator=non_empty)
    # a VPC or proxy endpoint may carry a token: each is a secret (a string or { env = "NAME" }, never printed)
    endpoint_url: Secret | None = attrs.field(default=None, validator=_http_url, repr=False)
    control_endpoint_url: Secret | None = attrs.field(default=None, validator=_http_url, repr=False)
    sts_endpoint_url: Secret | None = attrs.field(default=None, validator=_http_url, repr=False)
    profile: str | None = attrs.field(default=None, validator=non_empty)
    role_arn: str | None = attrs.field(default=None, validator=non_empty)
    role_session_name: str | None = attrs.field(default=None, validator=non_empty)
    role_duration_s: int | None = attrs.field(default=None, validator=between(900, 43200))
    external_id: Secret | None = attrs.field(default=None, repr=False)
    connect_timeout_s: float | None = attrs.field(default=None, validator=at_least(0.001, integer=False))
    read_timeout_s: float | None = attrs.field(default=None, validator=at_least(0.001, integer=False))
    max_concurrency: int | None = attrs.field(default=None, validator=between(1, 1024))
    max_payload_bytes: int | None = attrs.field(default=None, validator=between(64, MAX_PAYLOAD_BYTES))
    health_endpoints: tuple[str, ...] = ()


@attrs.frozen
class SageMakerCredentials:
    """``[providers.aws-sagemaker] credentials``, with the same accepted spellings."""

    ALIASES: ClassVar[dict[str, str]] = {
        "aws_access_key_id": "access_key_id",
        "accessKeyId": "access_key_id",
        "access_key": "access_key_id",
        "accessKey": "access_key_id",
        "aws_secret_access_key": "secret_access_key",
        "secretAccessKey": "secret_access_key",
        "secret_key": "secret_access_key",
        "secretKey": "secret_access_key",
        "aws_session_token": "session_token",
        "sessionToken": "session_token",
        "externalId": "external_id",
    }
    access_key_id: Secret | None = attrs.field(default=None, repr=False)
    secret_access_key: Secret | None = attrs.field(default=None, repr=False)
    session_token: Secret | None = attrs.field(default=None, repr=False)
    external_id: Secret | None = attrs.field(default=None, repr=False)
    region: Secret | None = None
    role_arn: Secret | None = None
    profile: Secret | None = None
    endpoint_url: Secret | None = None


@attrs.frozen
class SageMakerSettings:
    """Everything the provider needs from its ``ProviderConfig``; ``repr`` shows no secret values."""

    region: str | Secret | None = None
    endpoint_url: str | None = attrs.field(default=None, repr=_masked)
    control_endpoint_url: str | None = attrs.field(default=None, repr=_masked)
    sts_endpoint_url: str | None = attrs.field(default=None, repr=_masked)
    default_endpoint_name: str | None = None
    access_key_id: Secret | None = None
    secret_access_key: Secret | None = None
    session_token: Secret | None = None
    profile: str | None = None
    role_arn: str | None = None
    role_session_name: str = "hotcrm-ai"
    role_duration_s: int = 3600
    external_id: Secret | None = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float | None = None
    max_concurrency: int = 8
    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    health_endpoints: tuple[str, ...] = ()

    @property
    def credential_mode(self) -> str:
        """Which source signs requests: ``keys``, ``profile`` or ``default-chain`` (+ ``role`` on top)."""
        base = "keys" if self.access_key_id is not None else "profile" if self.profile else "default-chain"
        return f"{base}+role" if self.role_arn else base

    def region_name(self) -> str | None:
        """The configured region (a ``Secret`` region is revealed: it is not sensitive, only stored so)."""
        if isinstance(self.region, Secret):
            return self.region.reveal() if self.region.is_set() else None
        return self.region

    def runtime_url(self) -> str | None:
        return self.endpoint_url

    def control_url(self) -> str | None:
        """DescribeEndpoint goes to the control plane; without its own URL it follows ``endpoint_url``
        (one stand-in serves both in tests; VPC setups set both, the hosts differ in AWS)."""
        return self.control_endpoint_url or self.endpoint_url

    @classmethod
    def from_provider_config(cls, config: ProviderConfig) -> SageMakerSettings:
        """The declared ``SageMakerConfig`` and ``SageMakerCredentials`` (one policy: an unknown key is an
        error naming it), then the checks across keys."""
        section = "providers.aws-sagemaker"
        conf = parse_options(SageMakerConfig, config.config, section=f"{section}.config")
        creds = parse_options(SageMakerCredentials, config.credentials, section=f"{section}.credentials")

        kwargs: dict[str, Any] = {}
        region: str | Secret | None = conf.region or creds.region
        if isinstance(region, str) and not _REGION_RE.match(region):
            raise ConfigError(f"{section}.region: expected an AWS region name like eu-west-1, got {region!r:.80}")
        kwargs["region"] = region

        endpoint = config.endpoint_value()
        endpoint_url = _url("endpoint_url", _revealed(conf.endpoint_url))
        if endpoint_url is None and creds.endpoint_url is not None:  # not secret, but accepted there too
            endpoint_url = _url("credentials.endpoint_url", creds.endpoint_url.reveal())
        if endpoint and "://" in endpoint:
            # ProviderConfig.endpoint holding a URL is the runtime endpoint override.
            endpoint_url = endpoint_url or _url("endpoint", endpoint)
        elif endpoint:
            kwargs["default_endpoint_name"] = endpoint
        kwargs["endpoint_url"] = endpoint_url
        kwargs["control_endpoint_url"] = _url("control_endpoint_url", _revealed(conf.control_endpoint_url))
        kwargs["sts_endpoint_url"] = _url("sts_endpoint_url", _revealed(conf.sts_endpoint_url))

        access, secret, token = creds.access_key_id, creds.secret_access_key, creds.session_token
        if (access is None) != (secret is None):
            missing = "secret_access_key" if secret is None else "access_key_id"
            raise ConfigError(f"{section}.credentials.{missing}: expected it together with the other key of the pair")
        if token is not None and access is None:
            raise ConfigError(
                f"{section}.credentials.session_token: expected only with access_key_id and secret_access_key"
            )
        kwargs.update(access_key_id=access, secret_access_key=secret, session_token=token)

        profile = conf.profile or (creds.profile.reveal() if creds.profile is not None else None)
        if profile and access is not None:
            raise ConfigError(f"{section}: profile and explicit keys both given; expected one credential source")
        kwargs["profile"] = profile

        role_arn = conf.role_arn or (creds.role_arn.reveal() if creds.role_arn is not None else None)
        if role_arn is not None and not _ROLE_ARN_RE.match(role_arn):
            raise ConfigError(f"{section}.role_arn: expected arn:aws:iam::<12-digit account>:role/<name>")
        kwargs["role_arn"] = role_arn
        if conf.role_session_name is not None:
            if not re.match(r"^[\w+=,.@-]{2,64}$", conf.role_session_name):
                raise ConfigError(f"{section}.role_session_name: expected 2-64 of letters, digits and +=,.@_-")
            kwargs["role_session_name"] = conf.role_session_name
        if conf.role_duration_s is not None:
            kwargs["role_duration_s"] = conf.role_duration_s
        kwargs["external_id"] = creds.external_id or conf.external_id
        if kwargs["external_id"] is not None and role_arn is None:
            raise ConfigError(f"{section}.external_id: expected only together with role_arn")
        for key in ("connect_timeout_s", "read_timeout_s", "max_concurrency", "max_payload_bytes"):
            if getattr(conf, key) is not None:
                kwargs[key] = getattr(conf, key)
        if any(not name for name in conf.health_endpoints):
            raise ConfigError(f"{section}.health_endpoints: expected a list of endpoint names")
        kwargs["health_endpoints"] = conf.health_endpoints
        return cls(**kwargs)
