"""The ``llm`` query translator: the question plus the schema catalogue go to whichever registered model
``[reporting] llm_model`` names, through the provider contract's structured-output call
(``BaseMLProvider.complete_structured``) with the reporting AST's JSON schema.

Any provider that offers structured output serves it (OpenAI, Anthropic, third-party ones). The long
system prompt (instructions and the catalogue) is marked for prompt caching, which providers honour
where their API has it (Anthropic ``cache_control``; OpenAI caches long prefixes by itself); the cache
tokens show in the call's usage, recorded by the monitor under the model's id.

The model never writes SQL: its JSON is parsed strictly (``parse_query``), then validated against the
catalogue and compiled by the engine exactly like the rules translator's output. Malformed or
disallowed answers become a "not understood" result, never a guess.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from hotcrm_ai.errors import ProviderError, ProviderResponseError, ReportingError, ValidationError
from hotcrm_ai.types import PredictionOutput

if TYPE_CHECKING:
    from hotcrm_ai.builtins.llm_translator import LLMOptions

MAX_QUESTION = 2000
# Keywords some strict structured-output modes reject; the engine re-validates everything anyway.
_UNSUPPORTED = {"pattern", "minimum", "maximum", "$schema", "title", "format"}

SYSTEM_PROMPT = """You translate a CRM analytics question into a structured query (JSON) over the catalogue below.
Use only the objects, fields, joins ("join.field"), aliases and metrics of the catalogue. Never write SQL.
Dates are YYYY-MM-DD, ranges inclusive. Prefer named metrics (func "metric") for revenue, pipeline, win rate
and the like. Put filter values exactly as they appear in the catalogue's "values".
If the question cannot be answered from the catalogue, or asks to change data, answer
{{"understood": false, "reason": "<what is missing>", "query": null}}.

Catalogue:
{catalogue}"""

USER_PROMPT = """Today is {today}.
Question: {question}"""


class StructuredModels(Protocol):
    """What the translator needs from its host: a structured-output call to a registered model."""

    def complete_structured(
        self, model_id: str, *, system: str, user: str, schema: Mapping[str, Any], cache_system: bool = False
    ) -> PredictionOutput: ...


def _strip(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip(v) for k, v in schema.items() if k not in _UNSUPPORTED}
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    return schema


def answer_schema() -> dict[str, Any]:
    """What the model must answer: understood, reason, and the query (the AST's schema) or null."""
    from hotcrm_ai.reporting.ast import query_json_schema

    return {
        "type": "object",
        "properties": {
            "understood": {"type": "boolean"},
            "reason": {"type": "string"},
            "query": {"anyOf": [_strip(query_json_schema()), {"type": "null"}]},
        },
        "required": ["understood", "reason", "query"],
        "additionalProperties": False,
    }


class LLMTranslator:
    name = "llm"

    def __init__(self, options: LLMOptions, models: StructuredModels | None = None) -> None:
        """``options``: the declared ``[reporting]`` keys, already checked (``LLMOptions``)."""
        self.model_id = options.llm_model
        self.models = models

    def __repr__(self) -> str:
        return f"LLMTranslator(model={self.model_id!r})"

    def translate(self, question: str, *, catalogue: Any, now: date, context: Mapping[str, Any]) -> Any:
        from hotcrm_ai.reporting.ast import NotUnderstood, Translated, parse_query

        if not isinstance(question, str) or not question.strip():
            return NotUnderstood("The question is empty.")
        if len(question) > MAX_QUESTION:
            return NotUnderstood(f"The question is too long ({len(question)} characters; at most {MAX_QUESTION}).")
        if self.models is None:
            raise ReportingError(
                "llm translator: no models to ask (build the reporting engine through AICloud, or pass models=)"
            )
        system = SYSTEM_PROMPT.format(catalogue=json.dumps(catalogue.describe(), separators=(",", ":")))
        user = USER_PROMPT.format(today=now.isoformat(), question=question)
        try:
            out = self.models.complete_structured(
                self.model_id, system=system, user=user, schema=answer_schema(), cache_system=True
            )
        except ProviderResponseError as exc:  # the answer never matched the schema: nothing to run
            return NotUnderstood(f"The language model's answer was rejected: {str(exc)[:400]}")
        except ProviderError as exc:
            raise ReportingError(f"llm translator (model {self.model_id}): {exc}") from None
        data = out.prediction
        if not isinstance(data, Mapping) or not isinstance(data.get("understood"), bool):
            return NotUnderstood("The language model's answer did not have the expected shape, so nothing was run.")
        if not data["understood"]:
            given = data.get("reason")
            reason = given if isinstance(given, str) else ""
            return NotUnderstood(f"The language model could not map the question: {reason[:300] or 'no reason given'}.")
        if data.get("query") is None:
            return NotUnderstood("The language model's query was rejected: it claimed to understand but gave no query.")
        try:
            query = parse_query(data["query"])
        except ValidationError as exc:
            return NotUnderstood(f"The language model's query was rejected: {exc}")
        return Translated(query, matched=[], unknown=[])
