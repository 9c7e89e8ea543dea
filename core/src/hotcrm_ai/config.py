"""Configuration: ``hotcrm-ai.toml`` (or ``HOTCRM_AI_CONFIG``), env overrides, embedded defaults.

Every table maps onto a frozen settings class through the one converter, so an unknown key or a
wrong type is an error naming the key. Secrets are written ``{env = "NAME"}`` and stay references.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from hotcrm_ai.errors import ConfigError, ValidationError
from hotcrm_ai.types import ModelConfig, ProviderConfig

CONFIG_ENV = "HOTCRM_AI_CONFIG"
DEFAULT_FILE = "hotcrm-ai.toml"


@attrs.frozen
class CacheSettings:
    """``[cache]``. Keys other than these are passed to the backend's factory as ``options``."""

    backend: str = "memory"
    enabled: bool = True
    namespace: str = "hotcrm-ai"
    default_ttl_s: float = 300.0
    max_entries: int = 10_000  # bound of the in-memory backend and of the fallback memory
    retry_backend_after_s: float = 2.0  # cool-down before trying a failed backend again
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class HealthThresholds:
    """The seed's thresholds (reference §6.3): strict comparisons, percentages 0-100."""

    error_rate_unhealthy: float = 10.0
    error_rate_degraded: float = 5.0
    p95_latency_ms: float = 500.0
    window_s: float = 300.0


@attrs.frozen
class MonitorSettings:
    """``[monitor]``: ``sinks`` by name; ``[monitor.sink_options.<name>]`` goes to that sink's factory."""

    sinks: tuple[str, ...] = ("memory",)
    max_events_per_model: int = 10_000
    max_outcomes: int = 100_000
    health: HealthThresholds = attrs.field(factory=HealthThresholds)
    sink_options: dict[str, dict[str, Any]] = attrs.field(factory=dict)


@attrs.frozen
class PredictionSettings:
    """``[prediction]``: retries, circuit breakers, fallback windows and batch concurrency."""

    max_concurrency: int = 8
    retries: int = 2
    backoff_base_s: float = 0.05
    backoff_max_s: float = 2.0
    # circuit breaker (docs/resilience.md explains each default)
    breaker_failure_rate: float = 50.0  # percent of calls in the window; 0 disables
    breaker_window: int = 100  # calls in the sliding window
    breaker_min_calls: int = 20  # calls in the window before the rate is judged
    breaker_failure_threshold: int = 20  # consecutive failed calls (hard down); 0 disables
    breaker_half_open_probes: int = 1  # probe calls admitted when half-open; all must succeed
    breaker_reset_s: float = 2.0  # wait before the first probe after a trip
    breaker_reset_max_s: float = 60.0  # cap of the wait, multiplied while probes keep failing
    breaker_reset_multiplier: float = 2.0
    stale_if_error_s: float = 0.0  # > 0 keeps entries that long past their TTL, for degraded answers


@attrs.frozen
class ExplainSettings:
    """``[explain]``: model-evaluation budget, seed, and the largest feature count for exact Shapley."""

    budget: int = 50_000
    seed: int = 0
    max_exact_features: int = 12
    max_background: int = 100


@attrs.frozen
class ReportingSettings:
    """``[reporting]``: database (SQLAlchemy URL; default an embedded SQLite demo file), translator."""

    database_url: str | None = None
    translator: str = "rules"
    row_cap: int = 1_000
    timeout_s: float = 10.0
    catalogue: str | None = None
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class RegistrySettings:
    """``[registry]``: ``path`` persists the registry to a JSON file (atomic writes)."""

    path: str | None = None


@attrs.frozen
class Settings:
    cache: CacheSettings = attrs.field(factory=CacheSettings)
    monitor: MonitorSettings = attrs.field(factory=MonitorSettings)
    prediction: PredictionSettings = attrs.field(factory=PredictionSettings)
    explain: ExplainSettings = attrs.field(factory=ExplainSettings)
    reporting: ReportingSettings = attrs.field(factory=ReportingSettings)
    registry: RegistrySettings = attrs.field(factory=RegistrySettings)
    providers: dict[str, ProviderConfig] = attrs.field(factory=dict)
    models: tuple[ModelConfig, ...] = ()
    source: str | None = None  # the file these came from, if any

    def provider_config(self, name: str) -> ProviderConfig:
        """The configured ``[providers.<name>]``, else the provider's default config."""
        return self.providers.get(name) or ProviderConfig(provider=name)


def _split_options(table: Mapping[str, Any], cls: type, section: str) -> dict[str, Any]:
    """Known keys stay; the rest become ``options`` (for backend-specific settings)."""
    known = {a.name for a in attrs.fields(cls)} - {"options"}
    data = {k: v for k, v in table.items() if k in known}
    extra = {k: v for k, v in table.items() if k not in known}
    if extra:
        if "options" not in {a.name for a in attrs.fields(cls)}:
            raise ConfigError(f"[{section}]: unknown keys {', '.join(sorted(extra))}")
        data["options"] = {**dict(table.get("options", {})), **extra}
    return data


def settings_from_dict(doc: Mapping[str, Any], *, source: str | None = None) -> Settings:
    """Build ``Settings`` from a parsed TOML document; errors name the section and key."""
    from hotcrm_ai.converter import structure

    known = {"cache", "monitor", "prediction", "explain", "reporting", "registry", "providers", "models"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ConfigError(
            f"{source or 'config'}: unknown sections {', '.join(unknown)}; expected {', '.join(sorted(known))}"
        )
    where = source or "config"
    try:
        data: dict[str, Any] = {}
        if "cache" in doc:
            data["cache"] = structure(
                _split_options(doc["cache"], CacheSettings, "cache"), CacheSettings, subject=f"{where} [cache]"
            )
        if "reporting" in doc:
            data["reporting"] = structure(
                _split_options(doc["reporting"], ReportingSettings, "reporting"),
                ReportingSettings,
                subject=f"{where} [reporting]",
            )
        for name, cls in (
            ("monitor", MonitorSettings),
            ("prediction", PredictionSettings),
            ("explain", ExplainSettings),
            ("registry", RegistrySettings),
        ):
            if name in doc:
                data[name] = structure(doc[name], cls, subject=f"{where} [{name}]")
        providers = doc.get("providers", {})
        if not isinstance(providers, Mapping):
            raise ConfigError(f"{where} [providers]: expected tables [providers.<name>]")
        data["providers"] = {
            name: structure({"provider": name, **table}, ProviderConfig, subject=f"{where} [providers.{name}]")
            for name, table in providers.items()
        }
        models = doc.get("models", [])
        if not isinstance(models, list):
            raise ConfigError(f"{where} [[models]]: expected an array of tables")
        data["models"] = tuple(
            structure(
                m,
                ModelConfig,
                subject=f"{where} [[models]] #{i + 1} ({m.get('id', '?') if isinstance(m, Mapping) else '?'})",
            )
            for i, m in enumerate(models)
        )
    except ValidationError as exc:
        raise ConfigError(str(exc)) from None
    return Settings(**data, source=source)


def _env_overrides(settings: Settings, env: Mapping[str, str]) -> Settings:
    cache = settings.cache
    if env.get("HOTCRM_AI_CACHE_BACKEND"):
        cache = attrs.evolve(cache, backend=env["HOTCRM_AI_CACHE_BACKEND"])
    if env.get("HOTCRM_AI_REDIS_URL") and "url" not in cache.options:
        cache = attrs.evolve(cache, options={**cache.options, "url": {"env": "HOTCRM_AI_REDIS_URL"}})
    reporting = settings.reporting
    if env.get("HOTCRM_AI_DATABASE_URL"):
        reporting = attrs.evolve(reporting, database_url=env["HOTCRM_AI_DATABASE_URL"])
    registry = settings.registry
    if env.get("HOTCRM_AI_REGISTRY_PATH"):
        registry = attrs.evolve(registry, path=env["HOTCRM_AI_REGISTRY_PATH"])
    return attrs.evolve(settings, cache=cache, reporting=reporting, registry=registry)


def load_settings(path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None) -> Settings:
    """``path``, else ``$HOTCRM_AI_CONFIG``, else ``./hotcrm-ai.toml`` if present, else defaults."""
    env = os.environ if env is None else env
    explicit = path or env.get(CONFIG_ENV)
    file = Path(explicit) if explicit else Path(DEFAULT_FILE)
    if not file.exists():
        if explicit:
            raise ConfigError(f"config file not found: {file}")
        return _env_overrides(Settings(), env)
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return _env_overrides(settings_from_dict(doc, source=str(file)), env)
