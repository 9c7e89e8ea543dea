"""``[providers.aws-sagemaker]`` read into one frozen object, checked once, at provider construction.

Pure Python (no boto3): a bad value is a ``ConfigError`` naming the key before any SDK is imported.
Credentials stay ``Secret`` objects here; they are revealed only when the boto3 session is built.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from typing import Any

import attrs

from hotcrm_ai.errors import ConfigError
from hotcrm_ai.secrets import Secret
from hotcrm_ai.types import ProviderConfig

log = logging.getLogger("hotcrm_ai.sagemaker")

#: InvokeEndpoint's request body limit (the BodyBlob max in the AWS API model: 6 MiB).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024

_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+-\d+$|^local$")

# Accepted spellings: ours, boto3's, and the original's camelCase (reference §2.4).
_CREDENTIAL_ALIASES: dict[str, tuple[str, ...]] = {
    "access_key_id": ("access_key_id", "aws_access_key_id", "accessKeyId", "access_key", "accessKey"),
    "secret_access_key": ("secret_access_key", "aws_secret_access_key", "secretAccessKey", "secret_key", "secretKey"),
    "session_token": ("session_token", "aws_session_token", "sessionToken"),
    "external_id": ("external_id", "externalId"),
    "region": ("region",),
}
_CONFIG_ALIASES: dict[str, tuple[str, ...]] = {
    "region": ("region", "region_name", "aws_region"),
    "endpoint_url": ("endpoint_url", "runtime_endpoint_url"),
    "control_endpoint_url": ("control_endpoint_url", "sagemaker_endpoint_url"),
    "sts_endpoint_url": ("sts_endpoint_url",),
    "profile": ("profile", "profile_name"),
    "role_arn": ("role_arn",),
    "role_session_name": ("role_session_name",),
    "role_duration_s": ("role_duration_s",),
    "external_id": ("external_id",),
    "connect_timeout_s": ("connect_timeout_s", "connect_timeout"),
    "read_timeout_s": ("read_timeout_s", "read_timeout", "timeout_s", "timeout"),
    "max_concurrency": ("max_concurrency",),
    "max_payload_bytes": ("max_payload_bytes",),
    "health_endpoints": ("health_endpoints",),
}


def _pick(table: Mapping[str, Any], aliases: tuple[str, ...], section: str) -> tuple[str, Any] | None:
    found = [(k, table[k]) for k in aliases if k in table]
    if len(found) > 1:
        raise ConfigError(f"{section}: {' and '.join(k for k, _ in found)} both given; expected one of them")
    return found[0] if found else None


def _url(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        raise ConfigError(f"providers.aws-sagemaker.{key}: expected an http(s) URL, got {value!r:.80}")
    return value.rstrip("/")


def _number(key: str, value: Any, *, minimum: float, maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"providers.aws-sagemaker.{key}: expected a finite number, got {value!r:.80}")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and <= {maximum:.15g}" if maximum is not None else ""
        raise ConfigError(f"providers.aws-sagemaker.{key}: expected a number >= {minimum:.15g}{upper}, got {value!r}")
    return float(value)


def _text(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"providers.aws-sagemaker.{key}: expected a non-empty string, got {value!r:.80}")
    return value


@attrs.frozen
class SageMakerSettings:
    """Everything the provider needs from its ``ProviderConfig``; ``repr`` shows no secret values."""

    region: str | Secret | None = None
    endpoint_url: str | None = None
    control_endpoint_url: str | None = None
    sts_endpoint_url: str | None = None
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
        """Read and check every key. Unknown ``config`` keys are logged, not fatal: other layers
        (the prediction service) may share the table."""
        section = "providers.aws-sagemaker"
        table = dict(config.config)
        known = {alias for aliases in _CONFIG_ALIASES.values() for alias in aliases}
        unknown = sorted(set(table) - known)
        if unknown:
            log.warning("%s: ignoring unknown config keys %s", section, ", ".join(unknown))
        cred_known = {alias for aliases in _CREDENTIAL_ALIASES.values() for alias in aliases}
        cred_unknown = sorted(set(config.credentials) - cred_known - {"role_arn", "profile", "endpoint_url"})
        if cred_unknown:
            raise ConfigError(
                f"{section}.credentials: unknown keys {', '.join(cred_unknown)}; expected access_key_id, "
                "secret_access_key, session_token, external_id, region"
            )

        def conf(name: str) -> Any:
            hit = _pick(table, _CONFIG_ALIASES[name], section)
            return hit[1] if hit else None

        def cred(name: str) -> Secret | None:
            hit = _pick(config.credentials, _CREDENTIAL_ALIASES[name], f"{section}.credentials")
            return hit[1] if hit else None

        kwargs: dict[str, Any] = {}
        region: str | Secret | None = _text("region", conf("region")) or cred("region")
        if isinstance(region, str) and not _REGION_RE.match(region):
            raise ConfigError(f"{section}.region: expected an AWS region name like eu-west-1, got {region!r:.80}")
        kwargs["region"] = region

        endpoint = config.endpoint
        endpoint_url = _url("endpoint_url", conf("endpoint_url"))
        if endpoint_url is None and "endpoint_url" in config.credentials:  # not secret, but accepted there too
            endpoint_url = _url("credentials.endpoint_url", config.credentials["endpoint_url"].reveal())
        if endpoint and "://" in endpoint:
            # ProviderConfig.endpoint holding a URL is the runtime endpoint override.
            endpoint_url = endpoint_url or _url("endpoint", endpoint)
        elif endpoint:
            kwargs["default_endpoint_name"] = endpoint
        kwargs["endpoint_url"] = endpoint_url
        kwargs["control_endpoint_url"] = _url("control_endpoint_url", conf("control_endpoint_url"))
        kwargs["sts_endpoint_url"] = _url("sts_endpoint_url", conf("sts_endpoint_url"))

        access, secret, token = cred("access_key_id"), cred("secret_access_key"), cred("session_token")
        if (access is None) != (secret is None):
            missing = "secret_access_key" if secret is None else "access_key_id"
            raise ConfigError(f"{section}.credentials.{missing}: expected it together with the other key of the pair")
        if token is not None and access is None:
            raise ConfigError(
                f"{section}.credentials.session_token: expected only with access_key_id and secret_access_key"
            )
        kwargs.update(access_key_id=access, secret_access_key=secret, session_token=token)

        profile = _text("profile", conf("profile"))
        if profile is None and "profile" in config.credentials:
            profile = config.credentials["profile"].reveal()
        if profile and access is not None:
            raise ConfigError(f"{section}: profile and explicit keys both given; expected one credential source")
        kwargs["profile"] = profile

        role_arn = _text("role_arn", conf("role_arn"))
        if role_arn is None and "role_arn" in config.credentials:
            role_arn = config.credentials["role_arn"].reveal()
        if role_arn is not None and not _ROLE_ARN_RE.match(role_arn):
            raise ConfigError(f"{section}.role_arn: expected arn:aws:iam::<12-digit account>:role/<name>")
        kwargs["role_arn"] = role_arn
        session_name = _text("role_session_name", conf("role_session_name"))
        if session_name is not None:
            if not re.match(r"^[\w+=,.@-]{2,64}$", session_name):
                raise ConfigError(f"{section}.role_session_name: expected 2-64 of letters, digits and +=,.@_-")
            kwargs["role_session_name"] = session_name
        if conf("role_duration_s") is not None:
            kwargs["role_duration_s"] = int(
                _number("role_duration_s", conf("role_duration_s"), minimum=900, maximum=43200)
            )
        external = conf("external_id")
        if external is not None:
            from hotcrm_ai.secrets import as_secret

            external = as_secret(external, field=f"{section}.external_id")
        kwargs["external_id"] = cred("external_id") or external
        if kwargs["external_id"] is not None and role_arn is None:
            raise ConfigError(f"{section}.external_id: expected only together with role_arn")

        if conf("connect_timeout_s") is not None:
            kwargs["connect_timeout_s"] = _number("connect_timeout_s", conf("connect_timeout_s"), minimum=0.001)
        if conf("read_timeout_s") is not None:
            kwargs["read_timeout_s"] = _number("read_timeout_s", conf("read_timeout_s"), minimum=0.001)
        if conf("max_concurrency") is not None:
            value = _number("max_concurrency", conf("max_concurrency"), minimum=1, maximum=1024)
            if not value.is_integer():
                raise ConfigError(f"{section}.max_concurrency: expected an integer, got {value!r}")
            kwargs["max_concurrency"] = int(value)
        if conf("max_payload_bytes") is not None:
            value = _number("max_payload_bytes", conf("max_payload_bytes"), minimum=64, maximum=MAX_PAYLOAD_BYTES)
            kwargs["max_payload_bytes"] = int(value)
        names = conf("health_endpoints")
        if names is not None:
            if isinstance(names, str) or not all(isinstance(n, str) and n for n in names):
                raise ConfigError(f"{section}.health_endpoints: expected a list of endpoint names")
            kwargs["health_endpoints"] = tuple(names)
        return cls(**kwargs)
