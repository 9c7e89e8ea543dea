"""Registers the deterministic ``rules`` question-to-query translator (core, no model needed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hotcrm_ai.descriptors import QueryTranslatorSpec
from hotcrm_ai.hookspecs import hookimpl


def _factory(options: Mapping[str, Any]) -> Any:
    from hotcrm_ai.reporting.rules import RulesTranslator

    return RulesTranslator(options)


@hookimpl
def register_query_translators(register: Callable[[QueryTranslatorSpec], None]) -> None:
    register(QueryTranslatorSpec("rules", _factory, description="Deterministic vocabulary-based translator (built in)"))
