"""Prompt templates for chat-model providers: the template type, its selection for a model, and the
rendering of a record into the user message.

Instructions go in the system prompt and the caller's data in the user message, so text from a CRM
record is data to the model, not instructions. Placeholders are ``{features}`` (all features as JSON)
and ``{<feature name>}``; ``{{``/``}}`` are literal braces. Rendering is a plain substitution, not
``str.format``, so a template cannot reach attributes of the values. Each provider plugin keeps its
own wording of the built-in templates (vendors' models are prompted differently); the machinery is
shared here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from hotcrm_ai.errors import ConfigError, FieldError, ValidationError
from hotcrm_ai.types import ModelConfig

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


@attrs.frozen
class Template:
    name: str
    system_prompt: str
    user_template: str
    schema: dict[str, Any] | None  # the answer's JSON schema when the model declares none
    confidence_field: str | None = None  # field of the answer that is the model's own confidence (0-100)
    logprob_field: str | None = None  # field whose tokens' probability is the confidence otherwise


# Answer schemas of the built-in templates: what a sentiment, lead-scoring or generic answer is does not
# depend on the vendor; each provider plugin words its own prompts around them.
SENTIMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sentiment": {"type": "string", "enum": ["positive", "negative", "neutral"]},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["sentiment", "score"],
    "additionalProperties": False,
}
LEAD_SCORING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {"type": "number", "minimum": 0, "maximum": 100},
        "confidence": {"type": "number", "minimum": 0, "maximum": 100},
    },
    "required": ["score", "confidence"],
    "additionalProperties": False,
}
GENERIC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "prediction": {"type": ["string", "number", "boolean"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 100},
    },
    "required": ["prediction", "confidence"],
    "additionalProperties": False,
}
# a generation model without a template: no instructions, the prompt feature (or all features) as is
GENERATION = Template(name="generation", system_prompt="", user_template="", schema=None)


@attrs.frozen
class TemplateSet:
    """A provider's built-in templates and how a model picks one: ``parameters.template`` by name,
    else the first ``by_id`` substring found in the model id, else ``default``."""

    templates: Mapping[str, Template]
    by_id: Sequence[tuple[str, Template]]
    default: Template
    generation: Template
    overridable: tuple[str, ...] = ("system_prompt", "user_template", "confidence_field")

    def select(self, model: ModelConfig, *, default_system: str | None = None) -> Template:
        """The model's template; ``parameters`` may override the parts in ``overridable``."""
        p = model.parameters
        if model.type == "generation":
            base = self.generation
        elif "template" in p:
            if p["template"] not in self.templates:
                raise ConfigError(
                    f"model {model.id}: parameters.template: expected one of {', '.join(self.templates)}, "
                    f"got {p['template']!r:.40}"
                )
            base = self.templates[p["template"]]
        else:
            base = next((t for part, t in self.by_id if part in model.id), self.default)
        changes: dict[str, Any] = {}
        if default_system and not base.system_prompt:
            changes["system_prompt"] = default_system
        for key in self.overridable:
            if key in p:
                value = p[key]
                if not isinstance(value, str) or not value.strip():
                    raise ConfigError(
                        f"model {model.id}: parameters.{key}: expected a non-empty string, got {value!r:.40}"
                    )
                changes[key] = value
        if "user_template" in changes:
            check_template(changes["user_template"], where=f"model {model.id}: parameters.user_template")
        return attrs.evolve(base, **changes) if changes else base


def bad_placeholder(template: str) -> str | None:
    """The first placeholder of ``template`` that is not a name (``{a[0]}``, ``{}``), else None."""
    for match in PLACEHOLDER.finditer(template):
        name = match.group(1)
        if name is not None and not _NAME.match(name):
            return f"{{{name}}}"
    return None


def check_template(template: str, *, where: str) -> None:
    """Refuse placeholders that are not names (``{a[0]}``, ``{}``) when the model is configured."""
    bad = bad_placeholder(template)
    if bad is not None:
        raise ConfigError(f"{where}: placeholder {bad}: expected {{features}} or {{<feature name>}}")


def render(template: str, features: Mapping[str, Any], *, features_text: Callable[[Mapping[str, Any]], str]) -> str:
    """Substitute ``{features}`` (with ``features_text``) and ``{<feature>}``; a missing or non-JSON
    feature is a ``ValidationError`` naming it (every such feature, not just the first)."""
    missing: list[FieldError] = []

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name == "features":
            return features_text(features)
        value = features.get(name)
        if value is None:
            missing.append(FieldError(field=f"features.{name}", expected="a value (the prompt template uses it)"))
            return ""
        if isinstance(value, str):
            return value
        try:
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            missing.append(
                FieldError(field=f"features.{name}", expected="a plain finite JSON value", got=type(value).__name__)
            )
            return ""

    text = PLACEHOLDER.sub(replace, template)
    if missing:
        raise ValidationError(missing, subject="features")
    return text


def generation_text(features: Mapping[str, Any], features_text: Callable[[Mapping[str, Any]], str]) -> str:
    """A generation model without a template: the ``prompt`` (or ``text``) feature, else all features."""
    return next((features[k] for k in ("prompt", "text") if isinstance(features.get(k), str)), None) or features_text(
        features
    )


def require_text(text: str) -> str:
    if not text.strip():
        raise ValidationError(
            [FieldError(field="features", expected="non-empty text for the prompt")], subject="features"
        )
    return text


def features_json(features: Mapping[str, Any], *, indent: int | None = None) -> str:
    """All features as JSON for ``{features}``; a value with no JSON form (NaN, an object) is a
    ``ValidationError`` on ``features``."""
    try:
        return json.dumps(dict(features), indent=indent, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            [FieldError(field="features", expected="plain finite JSON values", got=str(exc)[:80])],
            subject="features",
        ) from None
