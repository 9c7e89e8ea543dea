"""Which number of a prediction is explained, and what to call it (``output_kind``).

A bare number is explained as is; a table (dict) by the key the model names in ``explain_output``,
else by its single numeric field. Anything else cannot be attributed, so it is an error, not a guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from typing import Any, TypeGuard

from hotcrm_ai.errors import ExplanationError
from hotcrm_ai.types import ModelConfig

OUTPUT_KINDS = ("probability", "score", "log-odds", "value")


def _is_number(value: Any) -> TypeGuard[Real]:
    return isinstance(value, Real) and not isinstance(value, bool)


def _kind_of_key(key: str) -> str:
    k = key.lower().replace("_", "-")
    if "prob" in k:
        return "probability"
    if "log-odds" in k or "logit" in k or "logodds" in k:
        return "log-odds"
    if "score" in k:
        return "score"
    return "value"


def explained_key(model: ModelConfig, prediction: Any) -> str | None:
    """The dict key explained (None for a bare number). Raises when there is no single numeric choice."""
    if _is_number(prediction):
        return None
    if not isinstance(prediction, Mapping):
        raise ExplanationError(
            f"model {model.id}: prediction is a {type(prediction).__name__}; expected a number or a table "
            "with a numeric field to explain"
        )
    if model.explain_output:
        if model.explain_output not in prediction:
            raise ExplanationError(
                f"model {model.id}: explain_output {model.explain_output!r} is not in the prediction "
                f"(fields: {', '.join(map(str, prediction)) or 'none'})"
            )
        return model.explain_output
    numeric = [k for k, v in prediction.items() if _is_number(v)]
    if len(numeric) != 1:
        found = ", ".join(map(str, numeric)) if numeric else "none"
        raise ExplanationError(
            f"model {model.id}: cannot tell which number to explain (numeric fields: {found}); "
            "set explain_output on the model config"
        )
    return str(numeric[0])


def explained_number(model: ModelConfig, prediction: Any, key: str | None) -> float:
    """The explained number of one prediction, finite, or ``ExplanationError`` naming what came."""
    value = prediction if key is None else (prediction.get(key) if isinstance(prediction, Mapping) else None)
    if type(value) is float and math.isfinite(value):  # the common case, once per coalition row
        return value
    if _is_number(value):
        try:
            number = float(value)
        except OverflowError:  # an int beyond float range (10**400) is not a finite number either
            number = math.inf
    else:
        where = "prediction" if key is None else f"prediction[{key!r}]"
        raise ExplanationError(f"model {model.id}: {where}: expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        where = "prediction" if key is None else f"prediction[{key!r}]"
        raise ExplanationError(f"model {model.id}: {where}: expected a finite number, got {number}")
    return number


def output_kind(model: ModelConfig, key: str | None) -> str:
    """``probability`` / ``score`` / ``log-odds`` / ``value``: from the key's name, or the model's
    ``output["kind"]`` for a bare number (a bare number's meaning is otherwise unknown: ``value``)."""
    if key is not None:
        return _kind_of_key(key)
    declared = model.output.get("kind")
    if isinstance(declared, str) and declared in OUTPUT_KINDS:
        return declared
    return "value"
