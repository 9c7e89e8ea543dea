"""The OpenAI provider's settings, read once from ``ProviderConfig`` and checked with errors naming the key.

Provider-level values (``[providers.openai]``) are defaults; a model's ``parameters`` override the
per-call ones (model name, temperature, max tokens, logprobs, prompts), so one provider serves many
models. ``temperature = 0`` is a value, not "unset" (0 must never fall back to the 0.3 default).
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
    one_of,
    parse_model_options,
    parse_options,
    prompt_template,
)
from hotcrm_ai.secrets import Secret
from hotcrm_ai.types import ModelConfig, ProviderConfig
from hotcrm_ai_openai.pricing import DEFAULT_PRICES, Price

optional = attrs.validators.optional

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_CHAT_MODEL = "gpt-4"  # the default model of the TypeScript version this replaces
DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"
DEFAULT_TEMPERATURE = 0.3
DEFAULT_MAX_TOKENS = 500
DEFAULT_TIMEOUT_S = 60.0
API_MAX_EMBEDDING_INPUTS = 2048  # inputs per embeddings request (API limit)
API_MAX_EMBEDDING_TOKENS = 300_000  # tokens summed over one embeddings request (API limit)

LOGPROBS_MODES = (True, False, "auto")
RESPONSE_FORMATS = ("json_schema", "json_object")
MAX_TOKENS_PARAMS = ("max_tokens", "max_completion_tokens")


@attrs.frozen
class OpenAIConfig:
    """``[providers.openai] config``: the provider's declared options (one policy: ``hotcrm_ai.options``).

    Provider-level values are defaults; a model's ``parameters`` override the per-call ones.
    ``base_url`` may carry a token (a proxy's, say), so it is a secret: a string or ``{ env = ... }``."""

    base_url: Secret | None = attrs.field(default=None, validator=http_url(DEFAULT_BASE_URL), repr=False)
    organization: str | None = attrs.field(default=None, validator=non_empty)
    project: str | None = attrs.field(default=None, validator=non_empty)
    model: str = attrs.field(default=DEFAULT_CHAT_MODEL, validator=non_empty)
    embedding_model: str = attrs.field(default=DEFAULT_EMBEDDING_MODEL, validator=non_empty)
    temperature: float = attrs.field(default=DEFAULT_TEMPERATURE, validator=between(0, 2, integer=False))
    max_tokens: int = attrs.field(default=DEFAULT_MAX_TOKENS, validator=at_least(1))
    max_tokens_param: str = attrs.field(default="max_tokens", validator=one_of(*MAX_TOKENS_PARAMS))
    timeout: float = attrs.field(default=DEFAULT_TIMEOUT_S, validator=between(0.001, 3600, integer=False))
    logprobs: Any = attrs.field(default="auto", validator=one_of(*LOGPROBS_MODES))
    response_format: str = attrs.field(default="json_schema", validator=one_of(*RESPONSE_FORMATS))
    strict: bool = True
    malformed_retries: int = attrs.field(default=1, validator=between(0, 3))
    max_concurrency: int = attrs.field(default=8, validator=between(1, 256))
    embedding_batch_size: int = attrs.field(
        default=API_MAX_EMBEDDING_INPUTS, validator=between(1, API_MAX_EMBEDDING_INPUTS)
    )
    embedding_max_tokens_per_request: int = attrs.field(
        default=API_MAX_EMBEDDING_TOKENS, validator=between(1, API_MAX_EMBEDDING_TOKENS)
    )
    dimensions: int | None = attrs.field(default=None, validator=at_least(1))
    seed: int | None = attrs.field(default=None, validator=between(-(2**63), 2**63 - 1))
    prices: dict[str, Price] = attrs.field(factory=dict)  # model -> {input, output}, USD per 1k tokens


@attrs.frozen
class OpenAICredentials:
    """``[providers.openai] credentials``: the API key (``apiKey``, the camelCase spelling, is accepted too)."""

    ALIASES: ClassVar[dict[str, str]] = {"apiKey": "api_key"}
    api_key: Secret | None = attrs.field(default=None, repr=False)


def _template(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    from hotcrm_ai_openai.prompts import TEMPLATES

    if value is not None:
        one_of(*TEMPLATES)(inst, attribute, value)


@attrs.frozen
class OpenAIModelOptions:
    """What a model's ``parameters`` may set (``ProviderSpec.model_options``), checked when ``AICloud``
    starts. Every field left out (None) takes the provider's value; ``temperature = 0`` is a value."""

    model: str | None = attrs.field(default=None, validator=non_empty)
    temperature: float | None = attrs.field(default=None, validator=between(0, 2, integer=False))
    max_tokens: int | None = attrs.field(default=None, validator=at_least(1))
    max_tokens_param: str | None = attrs.field(default=None, validator=optional(one_of(*MAX_TOKENS_PARAMS)))
    logprobs: Any = attrs.field(default=None, validator=optional(one_of(*LOGPROBS_MODES)))
    response_format: str | None = attrs.field(default=None, validator=optional(one_of(*RESPONSE_FORMATS)))
    strict: bool | None = None
    seed: int | None = attrs.field(default=None, validator=between(-(2**63), 2**63 - 1))
    dimensions: int | None = attrs.field(default=None, validator=at_least(1))
    #: prompts (``prompts.select_template``): a built-in template by name and overrides of its parts
    template: str | None = attrs.field(default=None, validator=_template)
    system_prompt: str | None = attrs.field(default=None, validator=non_empty)
    user_template: str | None = attrs.field(default=None, validator=prompt_template)
    confidence_field: str | None = attrs.field(default=None, validator=non_empty)
    logprob_field: str | None = attrs.field(default=None, validator=non_empty)
    prediction_field: str | None = attrs.field(default=None, validator=non_empty)
    #: embeddings: the feature holding the text to embed
    input_field: str | None = attrs.field(default=None, validator=non_empty)


@attrs.frozen
class CallOptions:
    """What one chat or embeddings call uses, after a model's parameters override the provider's."""

    model: str
    temperature: float
    max_tokens: int
    max_tokens_param: str
    logprobs: bool | str
    response_format: str
    strict: bool
    seed: int | None
    dimensions: int | None
    timeout_s: float


@attrs.frozen
class OpenAIOptions:
    api_key: Secret = attrs.field(repr=False)
    base_url: str
    organization: str | None
    project: str | None
    chat_model: str
    embedding_model: str
    temperature: float
    max_tokens: int
    max_tokens_param: str
    timeout_s: float
    logprobs: bool | str
    response_format: str
    strict: bool
    malformed_retries: int
    max_concurrency: int
    embedding_batch_size: int
    embedding_max_tokens_per_request: int
    dimensions: int | None
    seed: int | None
    prices: dict[str, Price]

    @classmethod
    def from_config(cls, config: ProviderConfig, env: Mapping[str, str] | None = None) -> OpenAIOptions:
        """The declared ``OpenAIConfig`` and credentials, plus the SDK's environment variables as defaults."""
        env = os.environ if env is None else env
        section = f"providers.{config.provider}"
        raw = parse_options(OpenAIConfig, config.config, section=f"{section}.config")
        creds = parse_options(OpenAICredentials, config.credentials, section=f"{section}.credentials")
        base_url = resolve_base_url(config, raw.base_url, env_var="OPENAI_BASE_URL", default=DEFAULT_BASE_URL, env=env)
        return cls(
            api_key=creds.api_key or Secret(env="OPENAI_API_KEY"),
            base_url=base_url,
            organization=raw.organization or env.get("OPENAI_ORG_ID") or None,
            project=raw.project or env.get("OPENAI_PROJECT_ID") or None,
            chat_model=raw.model,
            embedding_model=raw.embedding_model,
            temperature=raw.temperature,
            max_tokens=raw.max_tokens,
            max_tokens_param=raw.max_tokens_param,
            timeout_s=raw.timeout,
            logprobs=raw.logprobs,
            response_format=raw.response_format,
            strict=raw.strict,
            malformed_retries=raw.malformed_retries,
            max_concurrency=raw.max_concurrency,
            embedding_batch_size=raw.embedding_batch_size,
            embedding_max_tokens_per_request=raw.embedding_max_tokens_per_request,
            dimensions=raw.dimensions,
            seed=raw.seed,
            prices={**DEFAULT_PRICES, **raw.prices},
        )

    def for_model(self, model: ModelConfig, *, embedding: bool = False) -> CallOptions:
        """Per-call options: the model's declared ``parameters`` (``OpenAIModelOptions``) over the
        provider's values; a bad parameter is a ``ConfigError`` naming the model and the key."""
        p = parse_model_options(OpenAIModelOptions, model)
        pick = lambda given, default: default if given is None else given  # noqa: E731
        return CallOptions(
            model=pick(p.model, self.embedding_model if embedding else self.chat_model),
            temperature=pick(p.temperature, self.temperature),
            max_tokens=pick(p.max_tokens, self.max_tokens),
            max_tokens_param=pick(p.max_tokens_param, self.max_tokens_param),
            logprobs=pick(p.logprobs, self.logprobs),
            response_format=pick(p.response_format, self.response_format),
            strict=pick(p.strict, self.strict),
            seed=pick(p.seed, self.seed),
            dimensions=pick(p.dimensions, self.dimensions),
            timeout_s=model.timeout_s or self.timeout_s,
        )
