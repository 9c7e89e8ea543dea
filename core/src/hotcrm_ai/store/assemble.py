"""Building the store-backed parts of an ``AICloud`` from ``[store]`` and the installed stores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hotcrm_ai.errors import ConfigError, StoreError, StoreUnavailableError
from hotcrm_ai.store.link import StoreLink
from hotcrm_ai.store.urls import is_memory

if TYPE_CHECKING:
    from hotcrm_ai.config import MonitorSettings, StoreSettings
    from hotcrm_ai.descriptors import StoreSpec
    from hotcrm_ai.interfaces import MonitorSink, Store
    from hotcrm_ai.registry import ModelRegistry
    from hotcrm_ai.store.monitor import StoreMonitor


def build_store(specs: Mapping[str, StoreSpec], settings: StoreSettings) -> Store | None:
    """The configured store, not yet connected; None for ``url = "memory"``."""
    if is_memory(settings.url):
        return None
    spec = specs.get(settings.backend)
    if spec is None:
        installed = ", ".join(sorted(specs)) or "none"
        raise ConfigError(f"[store] backend: no store named {settings.backend!r} is installed (installed: {installed})")
    options: dict[str, Any] = {**settings.options, "url": settings.url}
    try:
        return spec.factory(options)
    except (ConfigError, StoreError):
        raise
    except Exception as exc:
        raise ConfigError(f"[store] {settings.backend}: could not be built: {type(exc).__name__}: {exc}") from exc


def build_registry(store: Store | None, path: str | None) -> tuple[ModelRegistry, StoreLink | None]:
    if store is None:
        from hotcrm_ai.registry import ModelRegistry

        return ModelRegistry(path), None
    from hotcrm_ai.store.registry import StoreRegistry

    link = StoreLink(store)
    return StoreRegistry(link, path), link


def connect(link: StoreLink) -> None:
    """Connect at start. Unreachable: carry on (said once, retried in the background); a schema
    that is older or newer than this release: raised."""
    try:
        link.ensure()
    except StoreUnavailableError:
        pass


def build_monitor(
    sinks: Sequence[MonitorSink],
    settings: MonitorSettings,
    link: StoreLink,
    store_settings: StoreSettings,
    registry: ModelRegistry,
) -> StoreMonitor:
    from hotcrm_ai.store.monitor import StoreMonitor

    return StoreMonitor(sinks, settings, link=link, store_settings=store_settings, registry=registry)
