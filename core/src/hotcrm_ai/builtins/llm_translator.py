"""Registers the ``llm`` question-to-query translator: a registered chat model answers in the query AST
through the provider contract's structured-output call (no SDK here; the model's provider has it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs

from hotcrm_ai.descriptors import QueryTranslatorSpec
from hotcrm_ai.hookspecs import hookimpl
from hotcrm_ai.options import OptionError

_MOVED = (
    'use `llm_model` = "<model id>": the translator talks to a registered model, whose provider '
    "holds the endpoint, the key and the timeout"
)


def _model_id(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        expected = "the id of a registered model on a provider with structured output (openai, anthropic, ...)"
        raise OptionError(attribute.name, expected, value)


@attrs.frozen
class LLMOptions:
    """``[reporting]`` keys of the ``llm`` translator: ``llm_model``, the registered model it asks.
    The endpoint, key and timeout it once took itself are that model's provider's now."""

    RETIRED: ClassVar[Mapping[str, str]] = dict.fromkeys(("llm_base_url", "llm_api_key", "llm_timeout_s"), _MOVED)

    llm_model: str = attrs.field(default="", validator=_model_id)


def _factory(options: Mapping[str, Any], models: Any = None) -> Any:
    from hotcrm_ai.options import parse_options
    from hotcrm_ai.reporting.llm_translator import LLMTranslator

    return LLMTranslator(parse_options(LLMOptions, options, section="reporting"), models)


@hookimpl
def register_query_translators(register: Callable[[QueryTranslatorSpec], None]) -> None:
    register(
        QueryTranslatorSpec(
            "llm",
            _factory,
            description="A registered chat model ([reporting] llm_model) answering in the query AST",
            options=LLMOptions,
        )
    )
