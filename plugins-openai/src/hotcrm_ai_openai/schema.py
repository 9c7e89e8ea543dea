"""The answer's JSON schema as OpenAI's structured outputs take it (``response_format``, strict when it
fits) and the reply's JSON; building the schema and checking each answer is ``hotcrm_ai.answers``.

The API's strict mode constrains decoding, but an OpenAI-compatible server may ignore
``response_format`` and a truncated reply is not JSON at all, so every answer is validated locally
with ``jsonschema`` (the reference implementation of the spec, with error paths) before it becomes a
prediction. ``ModelConfig.output`` is either a JSON schema (``{"type": "object", "properties": ...}``)
or a shorthand ``{field: "number" | "string" | "integer" | "boolean" | {<property schema>}}`` where
every field is required.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from hotcrm_ai import answers
from hotcrm_ai.answers import build_schema
from hotcrm_ai.errors import ProviderResponseError

__all__ = ["build_schema", "parse_answer", "schema_name", "strict_variant", "validate_answer"]


def strict_variant(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The schema as strict structured outputs want it (closed objects), and whether strict mode fits.

    Strict mode needs every property required; a schema with optional properties is sent non-strict
    (the server then only guides decoding) and our local validation still applies in full.
    """
    out = copy.deepcopy(schema)
    strict_ok = True

    def visit(node: Any) -> None:
        nonlocal strict_ok
        if isinstance(node, dict):
            if node.get("type") == "object" or "properties" in node:
                props = node.get("properties", {})
                node.setdefault("additionalProperties", False)
                if node["additionalProperties"] is not False or set(node.get("required", [])) != set(props):
                    strict_ok = False
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(out)
    return out, strict_ok


def schema_name(model_id: str) -> str:
    """A ``json_schema.name`` the API accepts: ``[A-Za-z0-9_-]{1,64}``."""
    return (re.sub(r"[^A-Za-z0-9_-]", "_", model_id) or "answer")[:64]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_answer(content: str | None, *, finish_reason: str | None) -> Any:
    """The JSON value of a reply's content; ``ProviderResponseError`` when there is none."""
    if content is None or not content.strip():
        raise ProviderResponseError("OpenAI reply: expected JSON content, got an empty message", provider="openai")
    try:
        return json.loads(content, parse_constant=_reject_constant)
    except ValueError as exc:
        hint = " (the reply was cut off at max_tokens; raise max_tokens)" if finish_reason == "length" else ""
        raise ProviderResponseError(
            f"OpenAI reply: expected JSON matching the output schema, got unparsable content{hint}: {exc}"[:300],
            provider="openai",
        ) from None


def validate_answer(answer: Any, schema: dict[str, Any]) -> None:
    """Raise ``ProviderResponseError`` listing every field of ``answer`` that breaks ``schema``."""
    answers.validate_answer(answer, schema, provider="openai", vendor="OpenAI")
