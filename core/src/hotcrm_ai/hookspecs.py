"""The whole plugin contract of hotcrm-ai.

Every hook hands the plugin a ``register`` callback; call it once per thing you contribute, with a
descriptor from :mod:`hotcrm_ai.descriptors` (or a ``ModelConfig`` for models). Registration must be
cheap: import SDKs inside factories, never at module level. Built-ins register through these same
hooks, so a plugin can replace any of them (``replace=True``).

The host calls each plugin's hook on its own, in registration order (built-ins first), and records a
plugin that raises, returns a value, registers the wrong type or defines a hook not named here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from hotcrm_ai.descriptors import (
        CacheBackendSpec,
        EngineSpec,
        ExplainerSpec,
        MonitorSinkSpec,
        ProviderSpec,
        QueryTranslatorSpec,
        SectionSpec,
        StoreSpec,
    )
    from hotcrm_ai.types import ModelConfig

hookspec = pluggy.HookspecMarker("hotcrm_ai")
hookimpl = pluggy.HookimplMarker("hotcrm_ai")


@hookspec
def register_providers(register: Callable[[ProviderSpec], None]) -> None:
    """Contribute model providers (``openai``, ``aws-sagemaker``, ``custom``, ...).

    Called once per ``AICloud`` when its plugin host starts, before any model is served.

    :param register: call with one :class:`~hotcrm_ai.descriptors.ProviderSpec` per provider. Its
        factory is called with a model's ``ProviderConfig`` the first time a model with that exact
        configuration is served.
    """


@hookspec
def register_cache_backends(register: Callable[[CacheBackendSpec], None]) -> None:
    """Contribute cache backends (``memory`` is built in, ``redis`` comes with hotcrm-ai-plugins).

    Called once per ``AICloud`` when its plugin host starts; the factory of the backend named by
    ``[cache] backend`` runs when the cache manager is built.

    :param register: call with one :class:`~hotcrm_ai.descriptors.CacheBackendSpec` per backend.
    """


@hookspec
def register_explainers(register: Callable[[ExplainerSpec], None]) -> None:
    """Contribute feature-attribution methods (``exact``, ``linear``, ``kernel`` are built in).

    Called once per ``AICloud`` when its plugin host starts; a factory runs on the first explanation
    that uses its method.

    :param register: call with one :class:`~hotcrm_ai.descriptors.ExplainerSpec` per method.
    """


@hookspec
def register_monitor_sinks(register: Callable[[MonitorSinkSpec], None]) -> None:
    """Contribute places prediction events go (memory is built in; Prometheus, JSON lines, ...).

    Called once per ``AICloud`` when its plugin host starts; the factories of the sinks listed in
    ``[monitor] sinks`` run when the monitor is built.

    :param register: call with one :class:`~hotcrm_ai.descriptors.MonitorSinkSpec` per sink.
    """


@hookspec
def register_models(register: Callable[[ModelConfig], None]) -> None:
    """Contribute model configurations (hotcrm-ai-plugins contributes the five CRM models).

    Called once per ``AICloud`` when its plugin host starts; the models join the registry beside those
    of the configuration file and the store.

    :param register: call with one :class:`~hotcrm_ai.types.ModelConfig` per model version.
    """


@hookspec
def register_query_translators(register: Callable[[QueryTranslatorSpec], None]) -> None:
    """Contribute question-to-query translators for analytics (``rules`` is built in).

    Called once per ``AICloud`` when its plugin host starts; the factory of ``[reporting] translator``
    runs on the first question.

    :param register: call with one :class:`~hotcrm_ai.descriptors.QueryTranslatorSpec` per translator.
    """


@hookspec
def register_stores(register: Callable[[StoreSpec], None]) -> None:
    """Contribute stores for the registry, the prediction log and monitor events (SQL is built in).

    Called once per ``AICloud`` when its plugin host starts; the factory of the store that
    ``[store] url`` selects runs when the ``AICloud`` is built.

    :param register: call with one :class:`~hotcrm_ai.descriptors.StoreSpec` per store.
    """


@hookspec
def register_engines(register: Callable[[EngineSpec], None]) -> None:
    """Contribute engines that score whole tables (``local`` is built in, ``dask`` is a plugin).

    Called once per ``AICloud`` when its plugin host starts; an engine's factory runs on the first
    ``score`` call that names it.

    :param register: call with one :class:`~hotcrm_ai.descriptors.EngineSpec` per engine.
    """


@hookspec
def register_sections(register: Callable[[SectionSpec], None]) -> None:
    """Declare top-level tables of ``hotcrm-ai.toml`` that a separately installed distribution reads
    (hotcrm-ai-server declares ``[server]``).

    Called once per ``AICloud`` when its plugin host starts; the table is checked against the
    section's declared ``options`` before anything is built, and the factory turns it into the
    distribution's settings when it needs them.

    :param register: call with one :class:`~hotcrm_ai.descriptors.SectionSpec` per table.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands or groups to the ``hotcrm-ai`` command line.

    Called when the CLI starts, before arguments are parsed (so keep it cheap: import heavy modules
    inside the command functions).

    :param cli: the top-level ``click.Group``; call ``cli.add_command(...)`` or decorate with
        ``@cli.command()``.
    """
