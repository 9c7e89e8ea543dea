"""Input checks shared by the runners: every bad field becomes a ``FieldError``, all reported at once.

The prediction service validates against the FeatureSpecs first; these checks exist so a runner (or
the provider) called directly never crashes or returns NaN on bad input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from hotcrm_ai.errors import FieldError, ValidationError


def field_name(field: str, index: int, batch: bool) -> str:
    return f"rows[{index}].{field}" if batch else field


def check_rows(rows: Sequence[Any]) -> None:
    if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)):
        raise ValidationError([FieldError("rows", "a list of feature tables", type(rows).__name__)])
    if all(type(r) is dict for r in rows):  # the usual case, checked at C speed
        return
    bad = [
        FieldError(f"rows[{i}]", "a table of features", type(r).__name__)
        for i, r in enumerate(rows)
        if not isinstance(r, Mapping)
    ]
    if bad:
        raise ValidationError(bad)


def as_number(
    value: Any,
    name: str,
    errors: list[FieldError],
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> float:
    """A finite number within bounds, else a FieldError and 0.0 (so checking can go on)."""
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.append(FieldError(name, kind, _show(value)))
        return 0.0
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        finite = False
    if not finite:
        errors.append(FieldError(name, f"{kind} (finite)", _brief(value)))
        return 0.0
    if integer and not float(value).is_integer():
        errors.append(FieldError(name, kind, _brief(value)))
        return 0.0
    if minimum is not None and value < minimum:
        errors.append(FieldError(name, f"{kind} >= {minimum:g}", _brief(value)))
        return 0.0
    if maximum is not None and value > maximum:
        errors.append(FieldError(name, f"{kind} <= {maximum:g}", _brief(value)))
        return 0.0
    return float(value)


def _brief(value: Any, limit: int = 60) -> str:
    """``repr`` cut to ``limit`` characters; safe for ints too long to print (repr raises past 4,300 digits)."""
    try:
        text = repr(value)
    except ValueError:
        return "an integer too long to print"
    return f"{text[:limit]}{'...' if len(text) > limit else ''}"


def _show(value: Any) -> str:
    if value is None:
        return "nothing (missing)"
    return f"{type(value).__name__} {_brief(value)}"


def show(value: Any) -> str:
    return _show(value)


def brief(value: Any, limit: int = 80) -> str:
    return _brief(value, limit)


def raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError(errors)
