"""Provider instances and their circuit breakers, built lazily from the registered specs: one of each
per distinct *whole* provider configuration (``ProviderConfig.identity``), so models that differ in a
key or an option never share a client."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from hotcrm_ai.config import Settings
from hotcrm_ai.descriptors import ProviderSpec
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.prediction.breaker import BreakerConfig, CircuitBreaker
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.types import ModelConfig, ProviderConfig

_MAX_IDENTITIES = 4096


class ProviderPool:
    def __init__(self, specs: Mapping[str, ProviderSpec], settings: Settings) -> None:
        self._specs = specs
        self._settings = settings
        self._lock = threading.Lock()
        self._instances: dict[str, BaseMLProvider] = {}
        self._breakers: dict[str, CircuitBreaker] = {}
        # (provider name, id of the model's own config) -> (that config, (instance, breaker)): what
        # every prediction asks for, read without the lock (one atomic dict lookup)
        self._ready: dict[tuple[str, int], tuple[ProviderConfig | None, tuple[BaseMLProvider, CircuitBreaker]]] = {}
        self._identities: dict[tuple[str, int], tuple[ProviderConfig | None, ProviderConfig, str]] = {}
        self._breaker_config = BreakerConfig.from_settings(settings.prediction)  # bad values fail here

    def config_for(self, model: ModelConfig) -> ProviderConfig:
        """The model's own provider config, else ``[providers.<name>]``, else the default."""
        return self._resolve(model)[0]

    def _resolve(self, model: ModelConfig) -> tuple[ProviderConfig, str]:
        """The model's provider config and its identity, worked out once per config object (the
        digest is a JSON encoding and a hash: not something to redo on every prediction)."""
        slot = (model.provider, id(model.provider_config))
        found = self._identities.get(slot)
        if found is not None and found[0] is model.provider_config:
            return found[1], found[2]
        config = model.provider_config or self._settings.provider_config(model.provider)
        identity = config.identity()
        if len(self._identities) >= _MAX_IDENTITIES:
            self._identities.clear()
        # the model's own config object is held, so its id cannot be reused while the entry lives
        self._identities[slot] = (model.provider_config, config, identity)
        return config, identity

    def get(self, model: ModelConfig) -> tuple[BaseMLProvider, CircuitBreaker]:
        """The provider instance and breaker for ``model``'s whole provider configuration."""
        slot = (model.provider, id(model.provider_config))
        ready = self._ready.get(slot)
        if ready is not None and ready[0] is model.provider_config:
            return ready[1]
        config, key = self._resolve(model)
        with self._lock:
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
                self._breakers[key] = CircuitBreaker(key, self._breaker_config)
            pair = (provider, self._breakers[key])
            if len(self._ready) >= _MAX_IDENTITIES:
                self._ready.clear()
            # the model's own config object is held, so its id cannot be reused while the entry lives
            self._ready[slot] = (model.provider_config, pair)
            return pair

    def breakers(self) -> dict[str, str]:
        """Breaker state per provider identity (``provider:digest``; the digest shows no secret)."""
        with self._lock:
            return {k: b.state for k, b in self._breakers.items()}

    def close(self) -> None:
        with self._lock:
            instances, self._instances = list(self._instances.values()), {}
            self._ready = {}
            self._breakers.clear()
        for provider in instances:
            try:
                provider.close()
            except Exception:  # closing must not mask anything else
                pass
