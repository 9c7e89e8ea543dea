"""Where an HTTP API provider sends its requests: one rule and one error message for all of them.

The order: the model's or provider's ``endpoint`` (``ProviderConfig.endpoint``, text or
``{ env = "NAME" }``), else the provider's ``base_url`` option, else the SDK's environment variable
(``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``), else the API's own address. Each must be an http(s)
URL; a bad one is a ``ConfigError`` naming where it came from, never its value (a base URL may carry
a token: a proxy's key in its query, a user and password).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from hotcrm_ai.errors import ConfigError
from hotcrm_ai.options import OptionError, Validator
from hotcrm_ai.secrets import Secret
from hotcrm_ai.types import ProviderConfig

_SCHEMES = ("http://", "https://")


def _expected(example: str) -> str:
    return f"an http(s) URL such as {example}"


def _is_http(text: str) -> bool:
    return text.strip().lower().startswith(_SCHEMES)


def http_url(example: str) -> Validator:
    """Validator of a ``base_url`` option (a string or a ``Secret``): an http(s) URL. A reference to
    a variable that is not set is left for :func:`resolve_base_url`, which names the variable."""

    def check(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, Secret):
            if not value.is_set():
                return
            value = value.reveal()
        if isinstance(value, str) and not _is_http(value):
            raise OptionError(attribute.name, _expected(example), "a value without http(s)://")

    return check


def checked_url(value: str, where: str, example: str) -> str:
    """``value`` without surrounding space and trailing ``/``; a ``ConfigError`` naming ``where`` when
    it is not an http(s) URL (the one message every provider gives)."""
    if not _is_http(value):
        raise ConfigError(f"{where}: expected {_expected(example)}, got a value without http(s)://")
    return value.strip().rstrip("/")


def resolve_base_url(
    config: ProviderConfig,
    configured: Secret | str | None,
    *,
    env_var: str,
    default: str,
    env: Mapping[str, str],
    tidy: Callable[[str], str] | None = None,
) -> str:
    """The base URL a provider built from ``config`` uses (the order in this module's docstring).

    ``configured`` is the provider's declared ``base_url`` option; ``tidy`` adjusts a given URL to what
    the SDK expects (Anthropic's SDK adds ``/v1`` itself, so a trailing one is dropped)."""
    section = f"providers.{config.provider}"
    endpoint = config.endpoint_value()
    if endpoint:
        url = checked_url(endpoint, f"[{section}] endpoint", default)
    elif configured is not None:
        text = configured.reveal() if isinstance(configured, Secret) else configured
        url = checked_url(text, f"[{section}.config] base_url", default)
    elif env.get(env_var):
        url = checked_url(env[env_var], env_var, default)
    else:
        return default
    return tidy(url) if tidy is not None else url
