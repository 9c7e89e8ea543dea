"""``[providers.anthropic]`` read into frozen attrs classes through the core's one converter.

Checked once, when the provider is built and before the SDK is imported: an unknown key is a
``ConfigError`` naming it (with the nearest known key as a suggestion), a wrong type or range names the
key and what was expected. A model's ``parameters`` override the per-call values, so one provider
serves many models. ``temperature`` is sent only when configured (recent SDKs have no keyword for it, so
it goes in the request body), and ``temperature = 0`` is a value, not "unset": it is sent as 0.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from typing import Any

import attrs

from hotcrm_ai.errors import ConfigError, FieldError, ValidationError
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


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _finite(low: float, high: float = math.inf) -> Any:
    def check(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is None:
            return
        if not math.isfinite(value) or not low <= value <= high:
            bound = f"{_fmt(low)}-{_fmt(high)}" if high != math.inf else f">= {_fmt(low)}"
            raise ValueError(f"{attribute.name}: a number {bound}, got {value!r:.40}")

    return check


def _nonempty(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and not value.strip():
        raise ValueError(f"{attribute.name}: a non-empty string")


def _url(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError(f"{attribute.name}: an http(s) URL such as {DEFAULT_BASE_URL}")


@attrs.frozen
class Price:
    """USD per 1,000 tokens. Cache prices default to Anthropic's published factors of the input price."""

    input: float = attrs.field(validator=_finite(0))
    output: float = attrs.field(default=0.0, validator=_finite(0))
    cache_write: float | None = attrs.field(default=None, validator=_finite(0))
    cache_read: float | None = attrs.field(default=None, validator=_finite(0))

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
class AnthropicOptions:
    """The provider's settings (``[providers.anthropic] config``). ``base_url`` is resolved separately."""

    base_url: str | None = attrs.field(default=None, validator=_url)
    model: str = attrs.field(default=DEFAULT_MODEL, validator=_nonempty)
    max_tokens: int = attrs.field(default=DEFAULT_MAX_TOKENS, validator=_finite(1, 1_000_000))
    temperature: float | None = attrs.field(default=None, validator=_finite(0, 1))  # None: the API's default
    system_prompt: str | None = attrs.field(default=None, validator=_nonempty)
    timeout_s: float = attrs.field(default=DEFAULT_TIMEOUT_S, validator=_finite(0.001, 3600))
    connect_timeout_s: float = attrs.field(default=5.0, validator=_finite(0.001, 600))
    max_concurrency: int = attrs.field(default=8, validator=_finite(1, 256))
    malformed_retries: int = attrs.field(default=1, validator=_finite(0, 3))
    health_timeout_s: float = attrs.field(default=10.0, validator=_finite(0.001, 600))
    prices: dict[str, Price] = attrs.field(factory=dict)


MODEL_PARAMETERS = frozenset(
    {
        "model",
        "max_tokens",
        "temperature",
        "system_prompt",
        "user_template",
        "template",
        "confidence_field",
        "prediction_field",
    }
)


@attrs.frozen
class CallOptions:
    """What one Messages call uses, after a model's parameters override the provider's."""

    model: str
    max_tokens: int
    temperature: float | None
    timeout_s: float


def unknown_key_error(where: str, key: str, known: frozenset[str] | set[str]) -> ConfigError:
    """``ConfigError`` naming an unknown key, with the nearest known one when there is one."""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"{where}.{key}: unknown key{hint} (expected one of {', '.join(sorted(known))})")


def _structure(data: Mapping[str, Any], where: str) -> AnthropicOptions:
    from hotcrm_ai.converter import structure

    known = frozenset(a.name for a in attrs.fields(AnthropicOptions))
    for key in data:
        if key not in known:
            raise unknown_key_error(where, str(key), known)
    prices = data.get("prices") or {}
    if isinstance(prices, Mapping):
        for model, entry in prices.items():
            if isinstance(entry, Mapping):
                price_keys = frozenset(a.name for a in attrs.fields(Price))
                for key in entry:
                    if key not in price_keys:
                        raise unknown_key_error(f"{where}.prices.{model}", str(key), price_keys)
    try:
        return structure(dict(data), AnthropicOptions, subject=where)
    except ValidationError as exc:
        raise ConfigError("; ".join(_located(e, where) for e in exc.errors)) from None


def _located(error: FieldError, where: str) -> str:
    """``<where>.<key>: expected ...``; a range check raised in ``__init__`` names its key in the text."""
    field, expected = error.field, error.expected
    head, sep, rest = expected.partition(": ")
    if sep and head.isidentifier():
        field, expected = (head if field == "$" else f"{field}.{head}"), rest
    path = where if field == "$" else f"{where}.{field}".replace(".[", "[")
    return f"{path}: expected {expected}" + (f", got {error.got}" if error.got else "")


@attrs.frozen
class ProviderSettings:
    """Everything the provider needs from its ``ProviderConfig``; ``repr`` shows no secret."""

    api_key: Secret = attrs.field(repr=False)
    base_url: str
    options: AnthropicOptions

    @classmethod
    def from_config(cls, config: ProviderConfig, env: Mapping[str, str] | None = None) -> ProviderSettings:
        env = os.environ if env is None else env
        where = f"providers.{config.provider}"
        options = _structure(config.config, f"{where}.config")
        creds = dict(config.credentials)
        for key in creds:
            if key not in ("api_key", "apiKey"):
                raise unknown_key_error(f"{where}.credentials", key, {"api_key"})
        api_key = creds.get("api_key") or creds.get("apiKey") or Secret(env=KEY_ENV)
        if config.endpoint:
            base_url, source = config.endpoint, f"{where}.endpoint"
        elif options.base_url:
            base_url, source = options.base_url, f"{where}.config.base_url"
        elif env.get(BASE_URL_ENV):
            base_url, source = env[BASE_URL_ENV], BASE_URL_ENV
        else:
            base_url, source = DEFAULT_BASE_URL, "default"
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{source}: expected an http(s) URL such as {DEFAULT_BASE_URL}")
        base_url = base_url.rstrip("/")
        if base_url.endswith("/v1"):  # the SDK adds /v1/messages itself; "<root>/v1" is a common slip
            base_url = base_url[: -len("/v1")]
        return cls(api_key=api_key, base_url=base_url, options=options)

    def for_model(self, model: ModelConfig) -> CallOptions:
        """Per-call options: ``model.parameters`` override the provider's (errors name the model)."""
        p = model.parameters
        for key in p:
            if key not in MODEL_PARAMETERS:
                raise unknown_key_error(f"model {model.id}: parameters", key, MODEL_PARAMETERS)
        o = self.options
        merged = {
            "model": p.get("model", o.model),
            "max_tokens": p.get("max_tokens", o.max_tokens),
            "temperature": p.get("temperature", o.temperature),
            "timeout_s": model.timeout_s or o.timeout_s,
        }
        checked = _structure(merged, f"model {model.id}: parameters")
        return CallOptions(
            model=checked.model,
            max_tokens=checked.max_tokens,
            temperature=checked.temperature,
            timeout_s=checked.timeout_s,
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
