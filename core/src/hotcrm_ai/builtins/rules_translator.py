"""Registers the deterministic ``rules`` question-to-query translator (core, no model needed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from hotcrm_ai.descriptors import QueryTranslatorSpec
from hotcrm_ai.hookspecs import hookimpl


@attrs.frozen
class RulesOptions:
    """None: the rules translator reads only the catalogue. Declared, so a misspelt ``[reporting]`` key
    is an error at start rather than a setting nobody reads."""


def _factory(options: Mapping[str, Any]) -> Any:
    from hotcrm_ai.options import parse_options
    from hotcrm_ai.reporting.rules import RulesTranslator

    parse_options(RulesOptions, options, section="reporting")
    return RulesTranslator()


@hookimpl
def register_query_translators(register: Callable[[QueryTranslatorSpec], None]) -> None:
    register(
        QueryTranslatorSpec(
            "rules",
            _factory,
            description="Deterministic vocabulary-based translator (built in)",
            options=RulesOptions,
        )
    )
