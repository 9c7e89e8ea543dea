"""Configuration: ``hotcrm-ai.toml`` (or ``HOTCRM_AI_CONFIG``), env overrides, embedded defaults.

Every table maps onto a frozen settings class through the one converter, so an unknown key or a
wrong type is an error naming the key (with the closest valid name). Secrets are written
``{env = "NAME"}`` and stay references. The sections are a registry (``SECTIONS``): a part that adds a
table of its own (``[store]``, say) registers it with :func:`register_section`. What depends on the
installed plugins (backend, sink, provider and translator names, their declared options, every
``[[models]]`` provider) is checked when ``AICloud`` starts (``hotcrm_ai.config_check``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from hotcrm_ai.errors import ConfigError, ValidationError
from hotcrm_ai.options import check_keys
from hotcrm_ai.secrets import Secret, as_secret
from hotcrm_ai.types import ModelConfig, ProviderConfig

CONFIG_ENV = "HOTCRM_AI_CONFIG"
DEFAULT_FILE = "hotcrm-ai.toml"


@attrs.frozen
class CacheSettings:
    """``[cache]``. Keys other than these are the backend's options, checked at start against the
    options the backend declares (``[cache.options]`` is the same, spelled out)."""

    backend: str = "memory"
    enabled: bool = True
    namespace: str = "hotcrm-ai"
    default_ttl_s: float = 300.0
    max_entries: int = 10_000  # bound of the in-memory backend and of the fallback memory
    retry_backend_after_s: float = 2.0  # cool-down before trying a failed backend again
    # the HMAC key of cache keys, shared by every process of a deployment (None: see cache/keysecret.py)
    key_secret: Secret | None = attrs.field(
        default=None, converter=attrs.converters.optional(lambda v: as_secret(v, field="[cache] key_secret"))
    )
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class HealthThresholds:
    """Health thresholds: strict comparisons, percentages 0-100 (over 10% errors unhealthy, over 5%
    or a p95 latency over 500 ms degraded)."""

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


def _optional_secret(value: Any) -> Secret | None:
    return None if value is None else as_secret(value, field="database_url")


@attrs.frozen
class ReportingSettings:
    """``[reporting]``: database (SQLAlchemy URL; default an embedded SQLite demo file), translator.

    ``database_url`` usually carries a password, so it is a ``Secret``: a string or ``{ env = "NAME" }``,
    never printed."""

    database_url: Secret | None = attrs.field(default=None, converter=_optional_secret)
    translator: str = "rules"
    row_cap: int = 1_000
    timeout_s: float = 10.0
    catalogue: str | None = None
    options: dict[str, Any] = attrs.field(factory=dict)


def _rate(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"[store] {attribute.name}: expected a number from 0 to 1, got {value!r:.40}")


def _positive(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"[store] {attribute.name}: expected an integer >= 1, got {value!r:.40}")


@attrs.frozen
class RegistrySettings:
    """``[registry]``: ``path`` persists the registry to a JSON file (atomic writes)."""

    path: str | None = None


@attrs.frozen
class StoreSettings:
    """``[store]``: where registry changes, the prediction log and monitor events live.

    ``url``: a SQLAlchemy URL (or ``{env = "NAME"}``; shown redacted), ``"default"`` for the SQLite
    file in the user's data directory, ``"memory"`` for per-process state. ``AICloud.from_config()``
    and the CLI default to ``"default"``; ``Settings()`` built in code defaults to ``"memory"``.
    Keys other than these go to the store's factory as ``options``."""

    url: Secret = attrs.field(factory=lambda: Secret("memory"), converter=lambda v: as_secret(v, field="[store] url"))
    backend: str = "sql"
    log_features: bool = False  # CRM rows hold personal data: features are logged only when asked
    log_sample_rate: float = attrs.field(default=1.0, validator=_rate)
    retention_days: float | None = None
    queue_size: int = attrs.field(default=50_000, validator=_positive)
    batch_size: int = attrs.field(default=500, validator=_positive)
    flush_interval_s: float = 0.2
    reconnect_s: float = 2.0  # cap of the writer's reconnect back-off
    refresh_s: float = 2.0  # how often registry changes made by other processes are picked up
    stats_max_rows: int = attrs.field(default=200_000, validator=_positive)
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Settings:
    cache: CacheSettings = attrs.field(factory=CacheSettings)
    monitor: MonitorSettings = attrs.field(factory=MonitorSettings)
    prediction: PredictionSettings = attrs.field(factory=PredictionSettings)
    explain: ExplainSettings = attrs.field(factory=ExplainSettings)
    reporting: ReportingSettings = attrs.field(factory=ReportingSettings)
    registry: RegistrySettings = attrs.field(factory=RegistrySettings)
    store: StoreSettings = attrs.field(factory=StoreSettings)
    providers: dict[str, ProviderConfig] = attrs.field(factory=dict)
    models: tuple[ModelConfig, ...] = ()
    server: dict[str, Any] = attrs.field(factory=dict)  # ``[server]``, checked at start against its plugin
    source: str | None = None  # the file these came from, if any
    store_configured: bool = False  # the file set [store] url (else loading picks the default file)

    def provider_config(self, name: str) -> ProviderConfig:
        """The configured ``[providers.<name>]``, else the provider's default config."""
        return self.providers.get(name) or ProviderConfig(provider=name)


def _split_options(table: Mapping[str, Any], cls: type, section: str) -> dict[str, Any]:
    """Known keys stay; the rest become ``options`` (the plugin part's own, checked at start against
    what it declares)."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"[{section}]: expected a table")
    known = {a.name for a in attrs.fields(cls)} - {"options"}
    data = {k: v for k, v in table.items() if k in known}
    extra = {k: v for k, v in table.items() if k not in known and k != "options"}
    nested = table.get("options", {})
    if not isinstance(nested, Mapping):
        raise ConfigError(f"[{section}] options: expected a table")
    if extra or nested:
        data["options"] = {**dict(nested), **extra}
    return data


@attrs.frozen
class Section:
    """One top-level table: the ``Settings`` field it fills, its class, and whether keys the class
    does not know are a plugin part's options (``[cache]``, ``[reporting]``) rather than typos."""

    cls: type
    plugin_options: bool = False


SECTIONS: dict[str, Section] = {
    "cache": Section(CacheSettings, plugin_options=True),
    "monitor": Section(MonitorSettings),
    "prediction": Section(PredictionSettings),
    "explain": Section(ExplainSettings),
    "reporting": Section(ReportingSettings, plugin_options=True),
    "registry": Section(RegistrySettings),
    "store": Section(StoreSettings, plugin_options=True),
}
"""The known top-level tables besides ``[providers.*]`` and ``[[models]]``; each is a ``Settings`` field."""


def register_section(name: str, cls: type, *, plugin_options: bool = False) -> None:
    """Make ``[name]`` a known table structured into ``cls`` (a ``Settings`` field of that name)."""
    SECTIONS[name] = Section(cls, plugin_options=plugin_options)


def settings_from_dict(doc: Mapping[str, Any], *, source: str | None = None) -> Settings:
    """Build ``Settings`` from a parsed TOML document; errors name the section and key."""
    from hotcrm_ai.converter import structure

    where = source or "config"
    try:
        check_keys(where, doc, {*SECTIONS, "providers", "models", "server"})
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("unknown key", "unknown section", 1)) from None
    try:
        data: dict[str, Any] = {}
        for name, section in SECTIONS.items():
            if name not in doc:
                continue
            table = doc[name]
            if section.plugin_options:
                table = _split_options(table, section.cls, name)
            elif isinstance(table, Mapping):
                check_keys(name, table, {a.name for a in attrs.fields(section.cls)})
            data[name] = structure(table, section.cls, subject=f"{where} [{name}]")
        providers = doc.get("providers", {})
        if not isinstance(providers, Mapping):
            raise ConfigError(f"{where} [providers]: expected tables [providers.<name>]")
        data["providers"] = {
            name: structure({"provider": name, **table}, ProviderConfig, subject=f"{where} [providers.{name}]")
            for name, table in providers.items()
        }
        server = doc.get("server", {})
        if not isinstance(server, Mapping):
            raise ConfigError(f"{where} [server]: expected a table")
        data["server"] = dict(server)
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
    configured = isinstance(doc.get("store"), Mapping) and "url" in doc["store"]
    return Settings(**data, source=source, store_configured=configured)


def _env_overrides(settings: Settings, env: Mapping[str, str]) -> Settings:
    cache = settings.cache
    if env.get("HOTCRM_AI_CACHE_BACKEND"):
        cache = attrs.evolve(cache, backend=env["HOTCRM_AI_CACHE_BACKEND"])
    if env.get("HOTCRM_AI_REDIS_URL") and "url" not in cache.options:
        cache = attrs.evolve(cache, options={**cache.options, "url": {"env": "HOTCRM_AI_REDIS_URL"}})
    reporting = settings.reporting
    if env.get("HOTCRM_AI_DATABASE_URL"):
        reporting = attrs.evolve(reporting, database_url=Secret(env["HOTCRM_AI_DATABASE_URL"]))
    registry = settings.registry
    if env.get("HOTCRM_AI_REGISTRY_PATH"):
        registry = attrs.evolve(registry, path=env["HOTCRM_AI_REGISTRY_PATH"])
    return attrs.evolve(settings, cache=cache, reporting=reporting, registry=registry, store=_store_env(settings, env))


def _store_env(settings: Settings, env: Mapping[str, str]) -> StoreSettings:
    """``HOTCRM_AI_STORE_URL`` wins (kept as a reference); loaded settings without a URL use the
    default SQLite file, so the CLI keeps its state across commands with no configuration."""
    store = settings.store
    if env.get("HOTCRM_AI_STORE_URL"):
        return attrs.evolve(store, url=Secret(env="HOTCRM_AI_STORE_URL"))
    if not settings.store_configured:
        return attrs.evolve(store, url=Secret("default"))
    return store


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
