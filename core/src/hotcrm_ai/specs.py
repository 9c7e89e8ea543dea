"""Descriptors that plugins hand to ``register``: a name and a factory, nothing built yet.

Registration must stay cheap (no SDK import, no network), so a descriptor holds a *factory* that the
host calls the first time the thing is needed. ``replace=True`` is how a plugin says, explicitly, that
it means to take over a name someone else (a built-in, say) registered first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from hotcrm_ai.interfaces import CacheBackend, Explainer, MonitorSink, QueryTranslator
    from hotcrm_ai.provider import BaseMLProvider
    from hotcrm_ai.types import ProviderConfig


def _name(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > 100
        or not value.replace("-", "").replace("_", "").replace(".", "").isalnum()
    ):
        raise ValueError(
            f"{type(inst).__name__}.name: expected 1-100 letters, digits, '-', '_' or '.', got {value!r:.80}"
        )


def _callable(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not callable(value):
        raise TypeError(f"{type(inst).__name__}.{attribute.name}: expected a callable, got {type(value).__name__}")


@attrs.frozen
class ProviderSpec:
    """``factory(config: ProviderConfig) -> BaseMLProvider``."""

    name: str = attrs.field(validator=_name)
    factory: Callable[[ProviderConfig], BaseMLProvider] = attrs.field(validator=_callable)
    description: str = ""
    replace: bool = False


@attrs.frozen
class CacheBackendSpec:
    """``factory(options: Mapping[str, Any]) -> CacheBackend``; options are the ``[cache]`` table."""

    name: str = attrs.field(validator=_name)
    factory: Callable[[Mapping[str, Any]], CacheBackend] = attrs.field(validator=_callable)
    description: str = ""
    replace: bool = False


@attrs.frozen
class ExplainerSpec:
    """``factory() -> Explainer``."""

    name: str = attrs.field(validator=_name)
    factory: Callable[[], Explainer] = attrs.field(validator=_callable)
    description: str = ""
    replace: bool = False


@attrs.frozen
class MonitorSinkSpec:
    """``factory(options: Mapping[str, Any]) -> MonitorSink``; options are ``[monitor.sinks.<name>]``."""

    name: str = attrs.field(validator=_name)
    factory: Callable[[Mapping[str, Any]], MonitorSink] = attrs.field(validator=_callable)
    description: str = ""
    replace: bool = False


@attrs.frozen
class QueryTranslatorSpec:
    """``factory(options: Mapping[str, Any]) -> QueryTranslator``; options are ``[reporting]``.

    A factory that also takes a ``models`` keyword gets the host's structured-output calls to registered
    models (``complete_structured(model_id, system=, user=, schema=)``), for translators backed by a model.
    """

    name: str = attrs.field(validator=_name)
    factory: Callable[[Mapping[str, Any]], QueryTranslator] = attrs.field(validator=_callable)
    description: str = ""
    replace: bool = False
