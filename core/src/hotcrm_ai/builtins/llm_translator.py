"""Registers the ``llm`` question-to-query translator: a registered chat model answers in the query AST
through the provider contract's structured-output call (no SDK here; the model's provider has it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hotcrm_ai.descriptors import QueryTranslatorSpec
from hotcrm_ai.hookspecs import hookimpl


def _factory(options: Mapping[str, Any], models: Any = None) -> Any:
    from hotcrm_ai.reporting.llm_translator import LLMTranslator

    return LLMTranslator(options, models)


@hookimpl
def register_query_translators(register: Callable[[QueryTranslatorSpec], None]) -> None:
    register(
        QueryTranslatorSpec(
            "llm",
            _factory,
            description="A registered chat model ([reporting] llm_model) answering in the query AST",
        )
    )
