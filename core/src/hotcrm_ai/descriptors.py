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

if TYPE_CHECKING:  # the factories' types, named in the descriptors' type parameters below
    from collections.abc import Mapping  # noqa: F401

    from hotcrm_ai.interfaces import CacheBackend, Explainer, MonitorSink, QueryTranslator  # noqa: F401
    from hotcrm_ai.provider import BaseMLProvider  # noqa: F401
    from hotcrm_ai.scoring.engine import Engine  # noqa: F401
    from hotcrm_ai.types import ProviderConfig  # noqa: F401

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


@attrs.frozen
class ProviderSpec(Descriptor["Callable[[ProviderConfig], BaseMLProvider]"]):
    """``factory(config: ProviderConfig) -> BaseMLProvider``: one instance per distinct configuration."""

    kind: ClassVar[str] = "providers"


@attrs.frozen
class CacheBackendSpec(Descriptor["Callable[[Mapping[str, Any]], CacheBackend]"]):
    """``factory(options) -> CacheBackend``; options are the ``[cache]`` table."""

    kind: ClassVar[str] = "cache_backends"


@attrs.frozen
class ExplainerSpec(Descriptor["Callable[[], Explainer]"]):
    """``factory() -> Explainer``."""

    kind: ClassVar[str] = "explainers"


@attrs.frozen
class MonitorSinkSpec(Descriptor["Callable[[Mapping[str, Any]], MonitorSink]"]):
    """``factory(options) -> MonitorSink``; options are ``[monitor.sinks.<name>]``."""

    kind: ClassVar[str] = "monitor_sinks"


@attrs.frozen
class QueryTranslatorSpec(Descriptor["Callable[[Mapping[str, Any]], QueryTranslator]"]):
    """``factory(options) -> QueryTranslator``; options are the ``[reporting]`` table."""

    kind: ClassVar[str] = "translators"


@attrs.frozen
class StoreSpec(Descriptor["Callable[[Mapping[str, Any]], Any]"]):
    """``factory(options) -> Store``; options are the ``[store]`` table. Where the registry, the
    prediction log and monitor events live, shared by every process that points at it."""

    kind: ClassVar[str] = "stores"


@attrs.frozen
class EngineSpec(Descriptor["Callable[[Mapping[str, Any]], Engine]"]):
    """``factory(options) -> Engine``; options are ``[engines.<name>]``. How a whole table is scored:
    in this process (``local``) or spread over a cluster."""

    kind: ClassVar[str] = "engines"


DESCRIPTOR_TYPES: tuple[type[Descriptor[Any]], ...] = (
    ProviderSpec,
    CacheBackendSpec,
    ExplainerSpec,
    MonitorSinkSpec,
    QueryTranslatorSpec,
    StoreSpec,
    EngineSpec,
)
