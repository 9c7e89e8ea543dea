"""The whole plugin contract of hotcrm-ai.

Every hook hands the plugin a ``register`` callback; call it once per thing you contribute, with a
descriptor from ``hotcrm_ai.specs`` (or a ``ModelConfig`` for models). Registration must be cheap:
import SDKs inside factories, never at module level. Built-ins register through these same hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("hotcrm_ai")
hookimpl = pluggy.HookimplMarker("hotcrm_ai")


@hookspec
def register_providers(register: Callable[[Any], None]) -> None:
    """Called at start-up: register model providers with ``register(ProviderSpec(...))``."""


@hookspec
def register_cache_backends(register: Callable[[Any], None]) -> None:
    """Called at start-up: register cache backends with ``register(CacheBackendSpec(...))``."""


@hookspec
def register_explainers(register: Callable[[Any], None]) -> None:
    """Called at start-up: register feature-attribution methods with ``register(ExplainerSpec(...))``."""


@hookspec
def register_monitor_sinks(register: Callable[[Any], None]) -> None:
    """Called at start-up: register where prediction events go with ``register(MonitorSinkSpec(...))``."""


@hookspec
def register_models(register: Callable[[Any], None]) -> None:
    """Called when a registry is built: contribute models with ``register(ModelConfig(...))``."""


@hookspec
def register_query_translators(register: Callable[[Any], None]) -> None:
    """Called at start-up: register question-to-query translators with ``register(QueryTranslatorSpec(...))``."""


@hookspec
def register_commands(cli: Any) -> None:
    """Called when the CLI starts: add click commands or groups to ``cli`` (a ``click.Group``)."""
