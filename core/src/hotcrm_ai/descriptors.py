"""Descriptors that plugins hand to ``register``: a name and a factory, nothing built yet.

Registration must stay cheap (no SDK import, no network), so a descriptor holds a *factory* that the
host calls the first time the thing is needed. ``replace=True`` is how a plugin says, explicitly, that
it means to take over a name someone else (a built-in, say) registered first.

Every kind shares one generic base, :class:`Descriptor`; a kind differs only in its factory's type and
in ``kind``, the name ``hotcrm-ai plugins`` shows for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping

    from hotcrm_ai.interfaces import CacheBackend, Explainer, MonitorSink, QueryTranslator, Store
    from hotcrm_ai.provider import BaseMLProvider
    from hotcrm_ai.scoring.engine import Engine
    from hotcrm_ai.types import ModelConfig, ProviderConfig

    # the factory signature of each kind (names only exist for the type checker)
    ProviderFactory = Callable[[ProviderConfig], BaseMLProvider]
    CacheBackendFactory = Callable[[Mapping[str, Any]], CacheBackend]
    ExplainerFactory = Callable[[], Explainer]
    MonitorSinkFactory = Callable[[Mapping[str, Any]], MonitorSink]
    QueryTranslatorFactory = Callable[[Mapping[str, Any]], QueryTranslator]
    StoreFactory = Callable[[Mapping[str, Any]], Store]
    EngineFactory = Callable[[Mapping[str, Any]], Engine]
    SectionFactory = Callable[[Mapping[str, Any]], Any]

F = TypeVar("F", bound=Callable[..., Any])

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _name(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= 100 or not set(value) <= _NAME_CHARS:
        raise ValueError(
            f"{type(inst).__name__}.name: expected 1-100 letters, digits, '-', '_' or '.', got {value!r:.80}"
        )


def _callable(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not callable(value):
        raise TypeError(f"{type(inst).__name__}.{attribute.name}: expected a callable, got {type(value).__name__}")


@attrs.frozen
class Descriptor(Generic[F]):
    """A named factory. Subclasses fix the factory's signature and the ``kind`` users see."""

    kind: ClassVar[str] = ""

    name: str = attrs.field(validator=_name)
    factory: F = attrs.field(validator=_callable)
    description: str = ""
    replace: bool = False
    #: The frozen attrs class declaring this part's options (``hotcrm_ai.options``), or None for a
    #: part that takes none it declares. Declared options are checked when ``AICloud`` starts, with
    #: one policy: unknown key -> ``ConfigError`` naming it and the closest valid name.
    options: type | None = None


@attrs.frozen
class ProviderSpec(Descriptor["ProviderFactory"]):
    """``factory(config: ProviderConfig) -> BaseMLProvider``: one instance per distinct configuration.

    ``model_options`` declares what a model served by this provider may put in its ``parameters``
    (llm's per-model ``Options``): checked under the same policy as ``options`` when ``AICloud``
    starts, for every model of the configuration and the registry file. None leaves the parameters
    to the provider.

    ``model_options_for`` is for a provider whose models' options depend on the model (the custom
    provider's depend on the runner a model names): ``model_options_for(model)`` returns the class to
    check that model's ``parameters`` against (None: nothing declared), or raises ``ConfigError``
    (an unknown runner, say). It takes precedence over ``model_options``."""

    kind: ClassVar[str] = "providers"

    model_options: type | None = None
    model_options_for: Callable[[ModelConfig], type | None] | None = None


@attrs.frozen
class CacheBackendSpec(Descriptor["CacheBackendFactory"]):
    """``factory(options) -> CacheBackend``; options are the ``[cache]`` table."""

    kind: ClassVar[str] = "cache_backends"


@attrs.frozen
class ExplainerSpec(Descriptor["ExplainerFactory"]):
    """``factory() -> Explainer``."""

    kind: ClassVar[str] = "explainers"


@attrs.frozen
class MonitorSinkSpec(Descriptor["MonitorSinkFactory"]):
    """``factory(options) -> MonitorSink``; options are ``[monitor.sinks.<name>]``."""

    kind: ClassVar[str] = "monitor_sinks"


@attrs.frozen
class QueryTranslatorSpec(Descriptor["QueryTranslatorFactory"]):
    """``factory(options) -> QueryTranslator``; options are the ``[reporting]`` table."""

    kind: ClassVar[str] = "translators"


@attrs.frozen
class StoreSpec(Descriptor["StoreFactory"]):
    """``factory(options) -> Store``; options are the store's part of ``[store]``: ``url`` (a
    ``Secret``, revealed when connecting: ``hotcrm_ai.store.urls.resolve``) and the keys ``[store]``
    does not know itself, checked at start against ``options``. Where the registry, the prediction
    log and monitor events live, shared by every process that points at it."""

    kind: ClassVar[str] = "stores"


@attrs.frozen
class EngineSpec(Descriptor["EngineFactory"]):
    """``factory(options) -> Engine``; options are ``[engines.<name>]``. How a whole table is scored:
    in this process (``local``) or spread over a cluster."""

    kind: ClassVar[str] = "engines"


@attrs.frozen
class SectionSpec(Descriptor["SectionFactory"]):
    """``factory(table) -> settings``: a top-level table of ``hotcrm-ai.toml`` that belongs to a
    separately installed distribution (``[server]``, hotcrm-ai-server's). ``options`` declares its keys:
    the table is checked against them when ``AICloud`` starts, so a typo there fails every process
    reading the file, not only the one that serves. A table no installed plugin declares is an error,
    as a ``[providers.<name>]`` of an uninstalled provider is."""

    kind: ClassVar[str] = "sections"


DESCRIPTOR_TYPES: tuple[type[Descriptor[Any]], ...] = (
    ProviderSpec,
    CacheBackendSpec,
    ExplainerSpec,
    MonitorSinkSpec,
    QueryTranslatorSpec,
    StoreSpec,
    EngineSpec,
    SectionSpec,
)
