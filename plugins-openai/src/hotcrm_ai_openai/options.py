"""The OpenAI provider's settings, read once from ``ProviderConfig`` and checked with errors naming the key.

Provider-level values (``[providers.openai]``) are defaults; a model's ``parameters`` override the
per-call ones (model name, temperature, max tokens, logprobs, prompts), so one provider serves many
models. ``temperature = 0`` is a value, not "unset" (the original's ``||`` turned 0 into 0.3).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import attrs

from hotcrm_ai.errors import ConfigError
from hotcrm_ai.secrets import Secret
from hotcrm_ai.types import ModelConfig, ProviderConfig
from hotcrm_ai_openai.pricing import Price, parse_prices

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_CHAT_MODEL = "gpt-4"  # the original's default (reference §8.4, §12.2)
DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"
DEFAULT_TEMPERATURE = 0.3
DEFAULT_MAX_TOKENS = 500
DEFAULT_TIMEOUT_S = 60.0
API_MAX_EMBEDDING_INPUTS = 2048  # inputs per embeddings request (API limit)
API_MAX_EMBEDDING_TOKENS = 300_000  # tokens summed over one embeddings request (API limit)

LOGPROBS_MODES = (True, False, "auto")
RESPONSE_FORMATS = ("json_schema", "json_object")
MAX_TOKENS_PARAMS = ("max_tokens", "max_completion_tokens")

PROVIDER_KEYS = frozenset(
    {
        "base_url",
        "organization",
        "project",
        "model",
        "embedding_model",
        "temperature",
        "max_tokens",
        "max_tokens_param",
        "timeout",
        "logprobs",
        "response_format",
        "strict",
        "malformed_retries",
        "max_concurrency",
        "embedding_batch_size",
        "embedding_max_tokens_per_request",
        "dimensions",
        "seed",
        "prices",
    }
)


def _where(config: ProviderConfig, key: str) -> str:
    return f"providers.{config.provider}.config.{key}"


def _number(value: Any, where: str, *, low: float, high: float = math.inf, integer: bool = False) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if ok and integer and not float(value).is_integer():
        ok = False
    if not ok or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        bound = f"{low:g}-{high:g}" if high != math.inf else f">= {low:g}"
        raise ConfigError(f"{where}: expected {kind} {bound}, got {value!r:.40}")
    return int(value) if integer else float(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r:.40}")
    return value


def _choice(value: Any, where: str, options: tuple[Any, ...]) -> Any:
    if not any(type(value) is type(o) and value == o for o in options):
        raise ConfigError(f"{where}: expected one of {', '.join(repr(o) for o in options)}, got {value!r:.40}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r:.40}")
    return value


def _url(value: Any, where: str) -> str:
    text = _text(value, where).rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise ConfigError(
            f"{where}: expected an http(s) URL such as {DEFAULT_BASE_URL}, got a value without http(s)://"
        )
    return text


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
    embedding_batch_size: int
    embedding_max_tokens_per_request: int
    dimensions: int | None
    seed: int | None
    prices: dict[str, Price]

    @classmethod
    def from_config(cls, config: ProviderConfig, env: Mapping[str, str] | None = None) -> OpenAIOptions:
        env = os.environ if env is None else env
        raw = config.config
        unknown = sorted(set(raw) - PROVIDER_KEYS)
        if unknown:
            raise ConfigError(
                f"providers.{config.provider}.config: unknown keys {', '.join(unknown)}; "
                f"expected {', '.join(sorted(PROVIDER_KEYS))}"
            )
        creds = config.credentials
        extra_creds = sorted(set(creds) - {"api_key", "apiKey"})
        if extra_creds:
            raise ConfigError(
                f"providers.{config.provider}.credentials: unknown keys {', '.join(extra_creds)}; expected api_key"
            )
        api_key = creds.get("api_key") or creds.get("apiKey") or Secret(env="OPENAI_API_KEY")

        w = lambda key: _where(config, key)  # noqa: E731
        if config.endpoint:
            base_url = _url(config.endpoint, f"providers.{config.provider}.endpoint")
        elif "base_url" in raw:
            base_url = _url(raw["base_url"], w("base_url"))
        elif env.get("OPENAI_BASE_URL"):
            base_url = _url(env["OPENAI_BASE_URL"], "OPENAI_BASE_URL")
        else:
            base_url = DEFAULT_BASE_URL

        def opt_text(key: str, env_name: str | None = None) -> str | None:
            if key in raw:
                return _text(raw[key], w(key))
            return env.get(env_name) or None if env_name else None

        def opt_int(key: str, low: float, high: float = math.inf) -> int | None:
            return None if raw.get(key) is None else int(_number(raw[key], w(key), low=low, high=high, integer=True))

        return cls(
            api_key=api_key,
            base_url=base_url,
            organization=opt_text("organization", "OPENAI_ORG_ID"),
            project=opt_text("project", "OPENAI_PROJECT_ID"),
            chat_model=_text(raw.get("model", DEFAULT_CHAT_MODEL), w("model")),
            embedding_model=_text(raw.get("embedding_model", DEFAULT_EMBEDDING_MODEL), w("embedding_model")),
            temperature=_number(raw.get("temperature", DEFAULT_TEMPERATURE), w("temperature"), low=0, high=2),
            max_tokens=int(_number(raw.get("max_tokens", DEFAULT_MAX_TOKENS), w("max_tokens"), low=1, integer=True)),
            max_tokens_param=_choice(
                raw.get("max_tokens_param", "max_tokens"), w("max_tokens_param"), MAX_TOKENS_PARAMS
            ),
            timeout_s=_number(raw.get("timeout", DEFAULT_TIMEOUT_S), w("timeout"), low=0.001, high=3600),
            logprobs=_choice(raw.get("logprobs", "auto"), w("logprobs"), LOGPROBS_MODES),
            response_format=_choice(raw.get("response_format", "json_schema"), w("response_format"), RESPONSE_FORMATS),
            strict=_bool(raw.get("strict", True), w("strict")),
            malformed_retries=int(
                _number(raw.get("malformed_retries", 1), w("malformed_retries"), low=0, high=3, integer=True)
            ),
            embedding_batch_size=int(
                _number(
                    raw.get("embedding_batch_size", API_MAX_EMBEDDING_INPUTS),
                    w("embedding_batch_size"),
                    low=1,
                    high=API_MAX_EMBEDDING_INPUTS,
                    integer=True,
                )
            ),
            embedding_max_tokens_per_request=int(
                _number(
                    raw.get("embedding_max_tokens_per_request", API_MAX_EMBEDDING_TOKENS),
                    w("embedding_max_tokens_per_request"),
                    low=1,
                    high=API_MAX_EMBEDDING_TOKENS,
                    integer=True,
                )
            ),
            dimensions=opt_int("dimensions", 1),
            seed=opt_int("seed", -(2**63), 2**63 - 1),
            prices=parse_prices(raw.get("prices")),
        )

    def for_model(self, model: ModelConfig, *, embedding: bool = False) -> CallOptions:
        """Per-call options: ``model.parameters`` override the provider's values (errors name the model)."""
        p = model.parameters
        w = lambda key: f"model {model.id}: parameters.{key}"  # noqa: E731
        default_model = self.embedding_model if embedding else self.chat_model
        timeout = self.timeout_s if model.timeout_s is None else model.timeout_s
        return CallOptions(
            model=_text(p.get("model", default_model), w("model")),
            temperature=_number(p.get("temperature", self.temperature), w("temperature"), low=0, high=2),
            max_tokens=int(_number(p.get("max_tokens", self.max_tokens), w("max_tokens"), low=1, integer=True)),
            max_tokens_param=_choice(
                p.get("max_tokens_param", self.max_tokens_param), w("max_tokens_param"), MAX_TOKENS_PARAMS
            ),
            logprobs=_choice(p.get("logprobs", self.logprobs), w("logprobs"), LOGPROBS_MODES),
            response_format=_choice(
                p.get("response_format", self.response_format), w("response_format"), RESPONSE_FORMATS
            ),
            strict=_bool(p.get("strict", self.strict), w("strict")),
            seed=None
            if p.get("seed", self.seed) is None
            else int(_number(p.get("seed", self.seed), w("seed"), low=-(2**63), high=2**63 - 1, integer=True)),
            dimensions=None
            if p.get("dimensions", self.dimensions) is None
            else int(_number(p.get("dimensions", self.dimensions), w("dimensions"), low=1, integer=True)),
            timeout_s=_number(timeout, f"model {model.id}: timeout_s", low=0.001, high=3600)
            if timeout
            else self.timeout_s,
        )
