"""The answer's JSON schema: built from ``ModelConfig.output``, sent as the forced tool's
``input_schema``, and checked again on the way back with ``jsonschema`` (the reference implementation
of the spec, with error paths), because the API guides the tool input but does not guarantee it.

``output`` is a JSON object schema or the shorthand ``{field: "number" | "string" | ... | {schema}}``
where every field is required.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from hotcrm_ai.errors import ConfigError, ProviderResponseError

SHORTHAND_TYPES = ("number", "integer", "string", "boolean", "array", "object")
PROVIDER = "anthropic"


def build_schema(output: Mapping[str, Any], *, model_id: str) -> dict[str, Any]:
    """The object schema for ``output``; ``ConfigError`` naming the field when it is not one."""
    if "properties" in output or output.get("type") == "object":
        schema = copy.deepcopy(dict(output))
        if schema.get("type", "object") != "object" or not isinstance(schema.get("properties"), Mapping):
            raise ConfigError(f"model {model_id}: output: expected an object schema with properties")
        schema["type"] = "object"
    else:
        properties: dict[str, Any] = {}
        for name, spec in output.items():
            if isinstance(spec, str) and spec in SHORTHAND_TYPES:
                properties[str(name)] = {"type": spec}
            elif isinstance(spec, Mapping):
                properties[str(name)] = copy.deepcopy(dict(spec))
            else:
                raise ConfigError(
                    f"model {model_id}: output.{name}: expected one of {', '.join(SHORTHAND_TYPES)} "
                    f"or a property schema, got {spec!r:.40}"
                )
        if not properties:
            raise ConfigError(f"model {model_id}: output: expected at least one field")
        schema = {"type": "object", "properties": properties, "required": list(properties)}
    check_schema(schema, where=f"model {model_id}: output")
    return schema


def check_schema(schema: Mapping[str, Any], *, where: str) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if schema.get("type") != "object":
        raise ConfigError(f"{where}: expected an object schema (a tool's input is a JSON object)")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = ".".join(str(p) for p in exc.path) or "$"
        raise ConfigError(f"{where}.{path}: not a valid JSON schema ({exc.message[:120]})") from None


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_json))


def validate_answer(answer: Any, schema: Mapping[str, Any]) -> None:
    """``ProviderResponseError`` listing each field of ``answer`` that breaks ``schema``."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    problems = []
    for error in sorted(validator.iter_errors(answer), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in error.absolute_path)
        got = json.dumps(error.instance, default=str)
        got = got if len(got) <= 60 else got[:60] + "..."
        problems.append(f"answer{'.' + path if path else ''}: {error.message[:120]} (got {got})")
    if problems:
        raise ProviderResponseError(
            "Anthropic reply does not match the output schema: "
            + "; ".join(problems[:5])
            + ("; ..." if len(problems) > 5 else ""),
            provider=PROVIDER,
            details={"schema_errors": problems[:20]},
        )
