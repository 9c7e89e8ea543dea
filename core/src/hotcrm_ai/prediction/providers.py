"""Provider instances and their circuit breakers, built lazily from the registered specs and shared
per provider name and endpoint (reference §8.2)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from hotcrm_ai.config import Settings
from hotcrm_ai.descriptors import ProviderSpec
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.prediction.resilience import CircuitBreaker
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.types import ModelConfig, ProviderConfig


class ProviderPool:
    def __init__(self, specs: Mapping[str, ProviderSpec], settings: Settings) -> None:
        self._specs = specs
        self._settings = settings
        self._lock = threading.Lock()
        self._instances: dict[str, BaseMLProvider] = {}
        self._breakers: dict[str, CircuitBreaker] = {}

    def config_for(self, model: ModelConfig) -> ProviderConfig:
        """The model's own provider config, else ``[providers.<name>]``, else the default."""
        return model.provider_config or self._settings.provider_config(model.provider)

    def _slot(self, config: ProviderConfig) -> str:
        """The instance key for ``config``: shared per provider and endpoint, but two configs that differ
        (another key, other options) on one endpoint get instances of their own (``name:endpoint#1``)."""
        base = key = config.cache_key()
        n = 0
        while (existing := self._instances.get(key)) is not None and existing.config != config:
            n += 1
            key = f"{base}#{n}"
        return key

    def get(self, model: ModelConfig) -> tuple[BaseMLProvider, CircuitBreaker]:
        config = self.config_for(model)
        with self._lock:
            key = self._slot(config)
            provider = self._instances.get(key)
            if provider is None:
                spec = self._specs.get(model.provider)
                if spec is None:
                    installed = ", ".join(sorted(self._specs)) or "none"
                    raise ConfigError(
                        f"model {model.id}: no provider named {model.provider!r} is installed (installed: {installed})"
                    )
                try:
                    provider = spec.factory(config)
                except ConfigError:
                    raise
                except Exception as exc:
                    raise ConfigError(
                        f"provider {model.provider}: could not be built: {type(exc).__name__}: {exc}"
                    ) from exc
                if not isinstance(provider, BaseMLProvider):
                    raise ConfigError(
                        f"provider {model.provider}: factory returned {type(provider).__name__}, "
                        "expected a BaseMLProvider"
                    )
                self._instances[key] = provider
                s = self._settings.prediction
                self._breakers[key] = CircuitBreaker(
                    key, failure_threshold=s.breaker_failure_threshold, reset_s=s.breaker_reset_s
                )
            return provider, self._breakers[key]

    def breakers(self) -> dict[str, str]:
        with self._lock:
            return {k: b.state for k, b in self._breakers.items()}

    def close(self) -> None:
        with self._lock:
            instances, self._instances = list(self._instances.values()), {}
            self._breakers.clear()
        for provider in instances:
            try:
                provider.close()
            except Exception:  # closing must not mask anything else
                pass
