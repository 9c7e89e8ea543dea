"""The JSON schema a structured answer must match: built from the model's declared output, sent as
``response_format`` (structured outputs), and checked again here on the way back.

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
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from hotcrm_ai.errors import ConfigError, ProviderResponseError

SHORTHAND_TYPES = ("number", "integer", "string", "boolean", "array", "object")
MAX_SHOWN = 60  # characters of a bad value quoted in an error


def build_schema(output: Mapping[str, Any], *, model_id: str) -> dict[str, Any]:
    """The object schema for ``output`` (a JSON schema or the shorthand); errors name the field."""
    if "properties" in output or output.get("type") == "object":
        schema = copy.deepcopy(dict(output))
        if (
            schema.get("type", "object") != "object"
            or not isinstance(schema.get("properties"), Mapping)
            or not schema["properties"]
        ):
            raise ConfigError(f"model {model_id}: output: expected an object schema with at least one property")
        schema["type"] = "object"
        _check_schema(schema, model_id)
        return schema
    properties: dict[str, Any] = {}
    for name, spec in output.items():
        if isinstance(spec, str):
            if spec not in SHORTHAND_TYPES:
                raise ConfigError(
                    f"model {model_id}: output.{name}: expected one of {', '.join(SHORTHAND_TYPES)} "
                    f"or a property schema, got {spec!r:.40}"
                )
            properties[str(name)] = {"type": spec}
        elif isinstance(spec, Mapping):
            properties[str(name)] = copy.deepcopy(dict(spec))
        else:
            raise ConfigError(
                f"model {model_id}: output.{name}: expected a type name or a property schema, got {type(spec).__name__}"
            )
    if not properties:
        raise ConfigError(f"model {model_id}: output: expected at least one field")
    schema = {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}
    _check_schema(schema, model_id)
    return schema


def _check_schema(schema: dict[str, Any], model_id: str) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = ".".join(str(p) for p in exc.path) or "$"
        raise ConfigError(f"model {model_id}: output.{path}: not a valid JSON schema ({exc.message[:120]})") from None


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


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_json))


def validate_answer(answer: Any, schema: dict[str, Any]) -> None:
    """Raise ``ProviderResponseError`` listing every field of ``answer`` that breaks ``schema``."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    problems = []
    for error in sorted(validator.iter_errors(answer), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in error.absolute_path)
        field = f"answer.{path}" if path else "answer"
        problems.append(f"{field}: {_describe(error)}")
    if problems:
        raise ProviderResponseError(
            "OpenAI reply does not match the output schema: "
            + "; ".join(problems[:5])
            + ("; ..." if len(problems) > 5 else ""),
            provider="openai",
            details={"schema_errors": problems[:20]},
        )


def _describe(error: Any) -> str:
    """'expected <constraint>, got <value>' in the words of the core's errors, value shortened."""
    got = json.dumps(error.instance, default=str)
    got = got if len(got) <= MAX_SHOWN else got[:MAX_SHOWN] + "..."
    v = error.validator_value
    expected = {
        "type": f"type {v}",
        "enum": "one of " + ", ".join(json.dumps(x) for x in v) if isinstance(v, list) else "",
        "minimum": f">= {v}",
        "maximum": f"<= {v}",
        "exclusiveMinimum": f"> {v}",
        "exclusiveMaximum": f"< {v}",
        "required": "the required fields " + ", ".join(map(str, v)) if isinstance(v, list) else "",
        "additionalProperties": "no fields beyond " + ", ".join(sorted(error.schema.get("properties", {}))),
        "const": f"{json.dumps(v)}",
        "minLength": f"at least {v} characters",
        "maxLength": f"at most {v} characters",
        "pattern": f"text matching {v}",
    }.get(error.validator, error.message[:120])
    return f"expected {expected}, got {got}"
