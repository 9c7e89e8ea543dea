"""The whole configuration checked against the installed plugins when ``AICloud`` starts.

What ``config.settings_from_dict`` cannot know alone: that the cache backend, the monitor sinks, the
providers of ``[providers.*]`` and of every ``[[models]]`` entry, and the translator are installed
(each unknown name with the closest installed one), and that their options match what each part
declares (``Descriptor.options``, one policy: ``hotcrm_ai.options``), and that a plugin's own
top-level table (``[server]``) matches what its ``SectionSpec`` declares. So a typo fails at start,
not at the first prediction or when the server starts. Checks are a list (``CHECKS``) a new section adds to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from hotcrm_ai.config import CacheSettings, ReportingSettings, Settings, StoreSettings
from hotcrm_ai.descriptors import Descriptor
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.options import (
    check_keys,
    option_names,
    own_options,
    parse_model_options,
    parse_options,
    retired_names,
    unknown_name,
)

if TYPE_CHECKING:
    from hotcrm_ai.plugins import PluginHost
    from hotcrm_ai.types import ModelConfig

Check = Callable[[Settings, "PluginHost"], None]


def _declared(spec: Descriptor[Any], options: Mapping[str, Any] | None, section: str) -> None:
    if spec.options is not None:
        parse_options(spec.options, options or {}, section=section)


def check_cache(settings: Settings, host: PluginHost) -> None:
    """The backend is installed; the ``[cache]`` keys are the manager's, the backend's or the
    in-memory fallback's (which takes its bounds from the same table)."""
    from hotcrm_ai.builtins.memory_cache import MemoryOptions

    cache = settings.cache
    spec = host.cache_backends.get(cache.backend)
    if spec is None:
        raise unknown_name("[cache] backend", cache.backend, host.cache_backends)
    if spec.options is None:
        return
    own = {a.name for a in attrs.fields(CacheSettings)} - {"options"}
    # one list of valid names, so `backnd` suggests `backend` and `ulr` suggests `url`
    check_keys("cache", cache.options, option_names(spec.options) | option_names(MemoryOptions) | own)
    for cls in {spec.options, MemoryOptions}:
        names = option_names(cls)
        parse_options(cls, {k: v for k, v in cache.options.items() if k in names}, section="cache")


def check_sinks(settings: Settings, host: PluginHost) -> None:
    monitor = settings.monitor
    for name in monitor.sinks:
        if name not in host.monitor_sinks:
            raise unknown_name("[monitor] sinks", name, host.monitor_sinks)
    for name, options in monitor.sink_options.items():
        spec = host.monitor_sinks.get(name)
        if spec is None:
            raise unknown_name("[monitor.sink_options]", name, host.monitor_sinks)
        _declared(spec, options, f"monitor.sink_options.{name}")


def check_providers(settings: Settings, host: PluginHost) -> None:
    for name, config in settings.providers.items():
        spec = host.providers.get(name)
        if spec is None:
            raise unknown_name("[providers]", name, host.providers)
        _declared(spec, config.config, f"providers.{name}.config")
    for i, model in enumerate(settings.models):
        spec = host.providers.get(model.provider)
        where = f"[[models]] #{i + 1} ({model.id}) provider"
        if spec is None:
            raise unknown_name(where, model.provider, host.providers)
        if model.provider_config is not None:
            _declared(spec, model.provider_config.config, f"[models]] #{i + 1} ({model.id}) provider_config.config")
        check_model_parameters(model, host)
        if model.explainer is not None and model.explainer not in host.explainers:
            raise unknown_name(f"[[models]] #{i + 1} ({model.id}) explainer", model.explainer, host.explainers)


def check_model_parameters(model: ModelConfig, host: PluginHost) -> None:
    """``model.parameters`` against the options its provider declares for it: ``model_options_for(model)``
    when the provider picks per model, else ``model_options`` (nothing when it declares neither)."""
    spec = host.providers.get(model.provider)
    if spec is None:
        return
    cls = spec.model_options_for(model) if spec.model_options_for is not None else spec.model_options
    if cls is not None:
        parse_model_options(cls, model)


def check_reporting(settings: Settings, host: PluginHost) -> None:
    """The translator is installed; the ``[reporting]`` keys are the engine's or some installed
    translator's (a request may pick another translator than the configured one), and the configured
    translator's own keys are structured through its declared options. A translator that declares
    none leaves the extra keys to itself."""
    reporting = settings.reporting
    spec = host.translators.get(reporting.translator)
    if spec is None:
        raise unknown_name("[reporting] translator", reporting.translator, host.translators)
    if spec.options is None:
        return
    declared = [s.options for s in host.translators.values() if s.options is not None]
    own = {a.name for a in attrs.fields(ReportingSettings)} - {"options"}
    known = set(own).union(*(option_names(cls) for cls in declared))
    retired = {k: v for cls in declared for k, v in retired_names(cls).items() if k not in known}
    check_keys("reporting", reporting.options, known, retired=retired)
    parse_options(spec.options, own_options(spec.options, reporting.options), section="reporting")


def check_store(settings: Settings, host: PluginHost) -> None:
    """The store backend is installed (unless ``url = "memory"``, which builds none); the ``[store]``
    keys are the core's or the backend's, and the backend's are structured through its declared
    options (``url`` included: a string or ``{ env = "NAME" }``)."""
    from hotcrm_ai.store.urls import is_memory

    store = settings.store
    spec = host.stores.get(store.backend)
    if spec is None:
        if is_memory(store.url):
            return
        raise unknown_name("[store] backend", store.backend, host.stores)
    if spec.options is None:
        return
    own = {a.name for a in attrs.fields(StoreSettings)} - {"options"}
    check_keys("store", store.options, option_names(spec.options) | own)
    parse_options(spec.options, {**store.options, "url": store.url}, section="store")


def check_sections(settings: Settings, host: PluginHost) -> None:
    """``[server]`` (a table of a separately installed distribution) against the options its
    ``SectionSpec`` declares. When no installed plugin declares it, a non-empty table is an error, as
    the ``[providers.<name>]`` of a provider that is not installed is: nothing would read it."""
    table = settings.server
    spec = host.sections.get("server")
    if spec is None:
        if table:
            installed = ", ".join(sorted(host.sections)) or "none"
            raise ConfigError(
                "[server]: no installed plugin reads this section (hotcrm-ai-server does; "
                f"installed plugin sections: {installed}); install it or remove the section"
            )
        return
    _declared(spec, table, "server")


CHECKS: list[Check] = [check_cache, check_sinks, check_providers, check_reporting, check_store, check_sections]


def check_settings(settings: Settings, host: PluginHost) -> None:
    """Every check in ``CHECKS``; the first problem is a ``ConfigError`` naming the section and key."""
    for check in CHECKS:
        check(settings, host)
