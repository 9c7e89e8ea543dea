"""``[providers.anthropic]`` declared as frozen attrs classes, read under the core's one options policy.

``AnthropicConfig`` (the provider's ``config``), ``AnthropicCredentials`` and ``AnthropicModelOptions``
(what a model's ``parameters`` may set) are structured through ``hotcrm_ai.options.parse_options``:
an unknown key is a ``ConfigError`` naming the section and the key with the closest valid one, a
wrong type or range names the key and what was expected. They are checked when ``AICloud`` starts
(``ProviderSpec.options`` and ``model_options``) and again when the provider is built, before the SDK
is imported. A model's ``parameters`` override the per-call values, so one provider serves many
models. ``temperature`` is sent only when configured (recent SDKs have no keyword for it, so it goes
in the request body), and ``temperature = 0`` is a value, not "unset": it is sent as 0.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from hotcrm_ai.base_url import http_url, resolve_base_url
from hotcrm_ai.options import (
    at_least,
    between,
    non_empty,
    parse_model_options,
    parse_options,
    prompt_template,
)
from hotcrm_ai.secrets import Secret
from hotcrm_ai.types import ModelConfig, ProviderConfig

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MODEL = "claude-haiku-4-5"
DEFAULT_MAX_TOKENS = 1024
DEFAULT_TIMEOUT_S = 60.0
KEY_ENV = "ANTHROPIC_API_KEY"
BASE_URL_ENV = "ANTHROPIC_BASE_URL"
# Anthropic bills 5-minute prompt-cache writes at 1.25x and cache reads at 0.1x the input price.
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1


def _template(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    from hotcrm_ai.options import one_of
    from hotcrm_ai_anthropic.prompts import TEMPLATES

    if value is not None:
        one_of(*TEMPLATES)(inst, attribute, value)


@attrs.frozen
class Price:
    """USD per 1,000 tokens. Cache prices default to Anthropic's published factors of the input price."""

    input: float = attrs.field(validator=at_least(0, integer=False))
    output: float = attrs.field(default=0.0, validator=at_least(0, integer=False))
    cache_write: float | None = attrs.field(default=None, validator=at_least(0, integer=False))
    cache_read: float | None = attrs.field(default=None, validator=at_least(0, integer=False))

    def cost(self, usage: Mapping[str, int]) -> float:
        write = self.cache_write if self.cache_write is not None else self.input * CACHE_WRITE_FACTOR
        read = self.cache_read if self.cache_read is not None else self.input * CACHE_READ_FACTOR
        return (
            usage["input_tokens"] * self.input
            + usage["output_tokens"] * self.output
            + usage["cache_creation_input_tokens"] * write
            + usage["cache_read_input_tokens"] * read
        ) / 1000.0


@attrs.frozen
class AnthropicConfig:
    """``[providers.anthropic] config``: the provider's declared options. ``base_url`` may carry a
    gateway's token, so it is a secret (a string or ``{ env = "NAME" }``, never printed)."""

    base_url: Secret | None = attrs.field(default=None, validator=http_url(DEFAULT_BASE_URL), repr=False)
    model: str = attrs.field(default=DEFAULT_MODEL, validator=non_empty)
    max_tokens: int = attrs.field(default=DEFAULT_MAX_TOKENS, validator=between(1, 1_000_000))
    temperature: float | None = attrs.field(default=None, validator=between(0, 1, integer=False))  # None: API default
    system_prompt: str | None = attrs.field(default=None, validator=non_empty)
    timeout_s: float = attrs.field(default=DEFAULT_TIMEOUT_S, validator=between(0.001, 3600, integer=False))
    connect_timeout_s: float = attrs.field(default=5.0, validator=between(0.001, 600, integer=False))
    max_concurrency: int = attrs.field(default=8, validator=between(1, 256))
    malformed_retries: int = attrs.field(default=1, validator=between(0, 3))
    health_timeout_s: float = attrs.field(default=10.0, validator=between(0.001, 600, integer=False))
    prices: dict[str, Price] = attrs.field(factory=dict)


@attrs.frozen
class AnthropicCredentials:
    """``[providers.anthropic] credentials``: the API key (``apiKey``, the camelCase spelling, too)."""

    ALIASES: ClassVar[dict[str, str]] = {"apiKey": "api_key"}
    api_key: Secret | None = attrs.field(default=None, repr=False)


@attrs.frozen
class AnthropicModelOptions:
    """What a model's ``parameters`` may set (``ProviderSpec.model_options``), checked when ``AICloud``
    starts. A field left out (None) takes the provider's value; ``temperature = 0`` is a value."""

    model: str | None = attrs.field(default=None, validator=non_empty)
    max_tokens: int | None = attrs.field(default=None, validator=between(1, 1_000_000))
    temperature: float | None = attrs.field(default=None, validator=between(0, 1, integer=False))
    #: prompts (``prompts.select_template``): a built-in template by name and overrides of its parts
    template: str | None = attrs.field(default=None, validator=_template)
    system_prompt: str | None = attrs.field(default=None, validator=non_empty)
    user_template: str | None = attrs.field(default=None, validator=prompt_template)
    confidence_field: str | None = attrs.field(default=None, validator=non_empty)
    prediction_field: str | None = attrs.field(default=None, validator=non_empty)


@attrs.frozen
class CallOptions:
    """What one Messages call uses, after a model's parameters override the provider's."""

    model: str
    max_tokens: int
    temperature: float | None
    timeout_s: float


def _api_root(url: str) -> str:
    """The SDK adds ``/v1/messages`` itself, so a trailing ``/v1`` (a common slip) is dropped."""
    return url[: -len("/v1")] if url.endswith("/v1") else url


@attrs.frozen
class ProviderSettings:
    """Everything the provider needs from its ``ProviderConfig``; ``repr`` shows no secret."""

    api_key: Secret = attrs.field(repr=False)
    base_url: str = attrs.field(repr=False)
    options: AnthropicConfig

    @classmethod
    def from_config(cls, config: ProviderConfig, env: Mapping[str, str] | None = None) -> ProviderSettings:
        """The declared options and credentials, then the base URL: the endpoint, else
        ``config.base_url``, else ``$ANTHROPIC_BASE_URL``, else the API's."""
        env = os.environ if env is None else env
        where = f"providers.{config.provider}"
        options = parse_options(AnthropicConfig, config.config, section=f"{where}.config")
        creds = parse_options(AnthropicCredentials, config.credentials, section=f"{where}.credentials")
        base_url = resolve_base_url(
            config, options.base_url, env_var=BASE_URL_ENV, default=DEFAULT_BASE_URL, env=env, tidy=_api_root
        )
        return cls(api_key=creds.api_key or Secret(env=KEY_ENV), base_url=base_url, options=options)

    def for_model(self, model: ModelConfig) -> CallOptions:
        """Per-call options: the model's declared ``parameters`` (``AnthropicModelOptions``) over the
        provider's; a bad parameter is a ``ConfigError`` naming the model and the key."""
        p = parse_model_options(AnthropicModelOptions, model)
        o = self.options
        return CallOptions(
            model=o.model if p.model is None else p.model,
            max_tokens=o.max_tokens if p.max_tokens is None else p.max_tokens,
            temperature=o.temperature if p.temperature is None else p.temperature,
            timeout_s=model.timeout_s or o.timeout_s,
        )

    def price_for(self, model: str | None) -> Price | None:
        """Exact name, else the name without a dated snapshot suffix (``claude-x-20250101``)."""
        if not model:
            return None
        prices = self.options.prices
        if model in prices:
            return prices[model]
        base, _, tail = model.rpartition("-")
        return prices.get(base) if tail.isdigit() and len(tail) == 8 else None
