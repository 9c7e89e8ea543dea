"""The Azure ML provider's declared options, read under the one policy of ``hotcrm_ai.options``.

Pure Python (no azure SDK): a typo or a wrong type is a ``ConfigError`` naming the key, at
``AICloud`` start and when the provider is built, before anything touches the network.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from hotcrm_ai.options import OptionError, at_least, between, non_empty, one_of, positive
from hotcrm_ai.secrets import Secret


@attrs.frozen
class AzureMLConfig:
    """``[providers.azure-ml] config``. The by-name path needs ``subscription_id``, ``resource_group``,
    ``workspace_name`` and ``endpoint_name``; the direct path only the scoring URI (``endpoint``)."""

    ALIASES: ClassVar[dict[str, str]] = {"resource_group_name": "resource_group", "workspace": "workspace_name"}

    subscription_id: str | None = attrs.field(default=None, validator=non_empty)
    resource_group: str | None = attrs.field(default=None, validator=non_empty)
    workspace_name: str | None = attrs.field(default=None, validator=non_empty)
    endpoint_name: str | None = attrs.field(default=None, validator=non_empty)
    deployment: str | None = attrs.field(default=None, validator=non_empty)
    payload_format: str | None = None  # data | mlflow (checked by ``payloads.payload_format``)
    timeout_s: float | None = attrs.field(default=None, validator=positive)
    max_request_bytes: float | None = attrs.field(default=None, validator=positive)
    max_batch_rows: float | None = attrs.field(default=None, validator=positive)
    key_ttl_s: float | None = attrs.field(default=None, validator=positive)
    auth: str | None = attrs.field(default=None, validator=attrs.validators.optional(one_of("key", "aad")))
    probe: dict[str, Any] | None = None  # {features = {...}, payload_format = ...}: a health probe that scores
    # URLs that may carry a token (a proxy's, a SAS): secrets, a string or { env = "NAME" }, never printed
    health_url: Secret | None = attrs.field(default=None, repr=False)
    default_confidence: float | None = attrs.field(default=None, validator=between(0, 100, integer=False))
    cloud: str | None = attrs.field(default=None, validator=non_empty)
    resource_manager_url: Secret | None = attrs.field(default=None, repr=False)
    verify_tls: Any = True  # true, false, or a CA bundle path
    arm_retry_total: int = attrs.field(default=0, validator=at_least(0))
    credential: Any = None  # an azure TokenCredential object, from code
    max_concurrency: int | None = attrs.field(default=None, validator=at_least(1))
    pool_size: int = attrs.field(default=16, validator=at_least(1))


@attrs.frozen
class AzureMLCredentials:
    """``[providers.azure-ml] credentials``: an endpoint key (``api_key``, ``apiKey`` or ``key``) or an
    AAD token, a service principal (``tenant_id``, ``client_id``, ``client_secret``), or the scoring
    URI itself (``endpoint``, when it embeds a token)."""

    ALIASES: ClassVar[dict[str, str]] = {"apiKey": "api_key", "key": "api_key"}

    api_key: Secret | None = attrs.field(default=None, repr=False)
    token: Secret | None = attrs.field(default=None, repr=False)
    endpoint: Secret | None = attrs.field(default=None, repr=False)
    tenant_id: Secret | None = attrs.field(default=None, repr=False)
    client_id: Secret | None = attrs.field(default=None, repr=False)
    client_secret: Secret | None = attrs.field(default=None, repr=False)


def _env_only(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Model parameters are written to the registry file: a key there may only be a reference."""
    if value is not None and value.env is None:
        raise OptionError(attribute.name, '{env = "NAME"} (keys are not stored in the registry)', "a literal key")


def _payload_format(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    from hotcrm_ai_azureml.payloads import _ALIASES

    if value is not None and value.lower() not in _ALIASES:
        raise OptionError(attribute.name, "one of data, mlflow (aliases original, input_data)", value)


@attrs.frozen
class AzureMLModelOptions:
    """What a model's ``parameters`` may set (``ProviderSpec.model_options``), checked when ``AICloud``
    starts under the one options policy; each overrides the provider's value for that model."""

    endpoint_name: str | None = attrs.field(default=None, validator=non_empty)
    deployment: str | None = attrs.field(default=None, validator=non_empty)
    payload_format: str | None = attrs.field(default=None, validator=_payload_format)
    default_confidence: float | None = attrs.field(default=None, validator=between(0, 100, integer=False))
    api_key: Secret | None = attrs.field(default=None, validator=_env_only, repr=False)
