"""The ``llm`` query translator: the question plus the schema catalogue go to a chat model whose answer
is constrained (structured outputs, strict JSON schema) to the reporting AST.

The model never writes SQL: its JSON is parsed strictly (``parse_query``), then validated against the
catalogue and compiled by core exactly like the rules translator's output. Malformed or disallowed
answers become a "not understood" result, never a guess. Options come from ``[reporting]``:
``llm_model`` (default gpt-4o-mini), ``llm_base_url``, ``llm_api_key`` (a string or ``{env = "NAME"}``,
default ``{env = "OPENAI_API_KEY"}``), ``llm_timeout_s`` (default 30).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from datetime import date
from typing import Any

from hotcrm_ai.descriptors import QueryTranslatorSpec
from hotcrm_ai.errors import ConfigError, ReportingError, ValidationError
from hotcrm_ai.secrets import Secret, as_secret

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_QUESTION = 2000
_UNSUPPORTED = {
    "pattern",
    "minimum",
    "maximum",
    "$schema",
    "title",
    "format",
}  # not accepted by every strict-mode model

SYSTEM_PROMPT = """You translate a CRM analytics question into a structured query (JSON) over the catalogue below.
Use only the objects, fields, joins ("join.field"), aliases and metrics of the catalogue. Never write SQL.
Dates are YYYY-MM-DD, ranges inclusive; today is {today}. Prefer named metrics (func "metric") for revenue,
pipeline, win rate and the like. Put filter values exactly as they appear in the catalogue's "values".
If the question cannot be answered from the catalogue, or asks to change data, answer
{{"understood": false, "reason": "<what is missing>", "query": null}}.

Catalogue:
{catalogue}"""


def _strict(schema: Any) -> Any:
    """The AST's schema without keywords some strict-mode endpoints reject (core re-validates anyway)."""
    if isinstance(schema, dict):
        return {k: _strict(v) for k, v in schema.items() if k not in _UNSUPPORTED}
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def answer_schema() -> dict[str, Any]:
    """What the model must answer: understood, reason, and the query (or null)."""
    from hotcrm_ai.reporting.ast import query_json_schema

    query = _strict(query_json_schema())
    return {
        "type": "object",
        "properties": {
            "understood": {"type": "boolean"},
            "reason": {"type": "string"},
            "query": {"anyOf": [query, {"type": "null"}]},
        },
        "required": ["understood", "reason", "query"],
        "additionalProperties": False,
    }


class LLMTranslator:
    name = "llm"

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.model = options.get("llm_model", DEFAULT_MODEL)
        self.base_url = options.get("llm_base_url", DEFAULT_BASE_URL)
        timeout = options.get("llm_timeout_s", 30.0)
        if not isinstance(self.model, str) or not self.model:
            raise ConfigError("reporting.llm_model: expected a model name")
        if not isinstance(self.base_url, str) or not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"reporting.llm_base_url: expected an http(s) URL, got {self.base_url!r:.80}")
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise ConfigError(f"reporting.llm_timeout_s: expected a positive number, got {timeout!r:.40}")
        self.timeout = float(timeout)
        self._key: Secret = as_secret(
            options.get("llm_api_key", {"env": "OPENAI_API_KEY"}), field="reporting.llm_api_key"
        )
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LLMTranslator(model={self.model!r}, base_url={self.base_url!r})"

    def _sdk(self) -> Any:
        with self._lock:
            if self._client is None:
                import openai  # lazily: registering the plugin must not import the SDK

                self._client = openai.OpenAI(
                    api_key=self._key.reveal(), base_url=self.base_url, timeout=self.timeout, max_retries=1
                )
            return self._client

    def translate(self, question: str, *, catalogue: Any, now: date, context: Mapping[str, Any]) -> Any:
        from hotcrm_ai.reporting.ast import NotUnderstood, Translated, parse_query

        if not isinstance(question, str) or not question.strip():
            return NotUnderstood("The question is empty.")
        if len(question) > MAX_QUESTION:
            return NotUnderstood(f"The question is too long ({len(question)} characters; at most {MAX_QUESTION}).")
        system = SYSTEM_PROMPT.format(
            today=now.isoformat(), catalogue=json.dumps(catalogue.describe(), separators=(",", ":"))
        )
        content = self._ask(system, question)
        try:
            data = json.loads(content)
        except (TypeError, ValueError):
            return NotUnderstood("The language model's answer was not valid JSON, so nothing was run.")
        if not isinstance(data, dict) or not isinstance(data.get("understood"), bool):
            return NotUnderstood("The language model's answer did not have the expected shape, so nothing was run.")
        if data["understood"] and data.get("query") is None:
            return NotUnderstood("The language model's query was rejected: it claimed to understand but gave no query.")
        if not data["understood"]:
            given = data.get("reason")
            reason = given if isinstance(given, str) else ""
            return NotUnderstood(f"The language model could not map the question: {reason[:300] or 'no reason given'}.")
        try:
            query = parse_query(data["query"])
        except ValidationError as exc:
            return NotUnderstood(f"The language model's query was rejected: {exc}")
        return Translated(query, matched=[], unknown=[])

    def _ask(self, system: str, question: str) -> str:
        import openai

        from hotcrm_ai_openai.errors import Redactor, map_openai_error

        try:
            resp = self._sdk().chat.completions.create(
                model=self.model,
                temperature=0,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "report_query", "strict": True, "schema": answer_schema()},
                },
            )
        except openai.OpenAIError as exc:
            err = map_openai_error(exc, operation="query translation", redact=Redactor([self._key.reveal()]))
            raise ReportingError(f"llm translator: {err}") from err
        choice = resp.choices[0] if resp.choices else None
        if choice is None or choice.message is None:
            return ""
        if getattr(choice.message, "refusal", None):
            return json.dumps({"understood": False, "reason": str(choice.message.refusal)[:300], "query": None})
        return choice.message.content or ""


def _factory(options: Mapping[str, Any]) -> LLMTranslator:
    return LLMTranslator(options)


def translator_spec() -> QueryTranslatorSpec:
    return QueryTranslatorSpec(
        "llm", _factory, description="Chat model with structured outputs constrained to the query AST (OpenAI API)"
    )
