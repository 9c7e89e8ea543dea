"""Structured answers of chat models, shared by the chat-provider plugins: the answer's JSON schema
built from ``ModelConfig.output``, checked when a model is configured, each reply validated against it
on the way back, and the answer's own confidence read from it.

Validation uses ``jsonschema`` (the reference implementation of the spec, with error paths), imported
on first use: only the plugins that call these functions depend on it. ``output`` is a JSON object
schema or the shorthand ``{field: "number" | "string" | ... | {<property schema>}}`` where every field
is required and no other field is allowed.
"""

from __future__ import annotations

import copy
import json
import math
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
        check_schema(schema, where=f"model {model_id}: output")
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
    check_schema(schema, where=f"model {model_id}: output")
    return schema


def check_schema(schema: Mapping[str, Any], *, where: str) -> None:
    """``ConfigError`` naming the path when ``schema`` is not a valid JSON object schema."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if schema.get("type") != "object":
        raise ConfigError(f"{where}: expected an object schema (an answer is a JSON object)")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = ".".join(str(p) for p in exc.path) or "$"
        raise ConfigError(f"{where}.{path}: not a valid JSON schema ({exc.message[:120]})") from None


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_json))


def validate_answer(answer: Any, schema: Mapping[str, Any], *, provider: str, vendor: str) -> None:
    """``ProviderResponseError`` listing every field of ``answer`` that breaks ``schema`` (``vendor``
    names the service in the message, ``provider`` is the error's provider)."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    problems = []
    for error in sorted(validator.iter_errors(answer), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in error.absolute_path)
        field = f"answer.{path}" if path else "answer"
        problems.append(f"{field}: {_describe(error)}")
    if problems:
        raise ProviderResponseError(
            f"{vendor} reply does not match the output schema: "
            + "; ".join(problems[:5])
            + ("; ..." if len(problems) > 5 else ""),
            provider=provider,
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


def answer_confidence(answer: Any, field: str | None, schema: Mapping[str, Any] | None) -> float | None:
    """The answer's own confidence field on 0-100 (a field declared with maximum <= 1 is scaled),
    or None when the answer has no finite number there (a confidence is never invented)."""
    if not field or not isinstance(answer, Mapping):
        return None
    value = answer.get(field)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    declared_max = schema.get("properties", {}).get(field, {}).get("maximum") if schema else None
    scaled = float(value) * 100.0 if isinstance(declared_max, (int, float)) and declared_max <= 1 else float(value)
    return min(100.0, max(0.0, scaled))
