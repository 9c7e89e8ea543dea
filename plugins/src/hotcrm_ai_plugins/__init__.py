"""hotcrm-ai-plugins: the standard plugins that need no cloud.

Each hook imports only its own light module; heavy imports (redis, numpy model weights, vader) wait
for the factories, so registering this plugin costs next to nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotcrm_ai import hookimpl


@hookimpl
def register_cache_backends(register: Callable[[Any], None]) -> None:
    from hotcrm_ai_plugins.redis_cache import backend_spec

    register(backend_spec())


@hookimpl
def register_providers(register: Callable[[Any], None]) -> None:
    from hotcrm_ai_plugins.custom import provider_spec

    register(provider_spec())


@hookimpl
def register_models(register: Callable[[Any], None]) -> None:
    from hotcrm_ai_plugins.models import default_models

    for model in default_models():
        register(model)


@hookimpl
def register_monitor_sinks(register: Callable[[Any], None]) -> None:
    from hotcrm_ai_plugins.sinks import sink_specs

    for spec in sink_specs():
        register(spec)
