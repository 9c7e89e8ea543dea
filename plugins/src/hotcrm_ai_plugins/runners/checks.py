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
    bad = [FieldError(f"rows[{i}]", "a table of features", type(r).__name__) for i, r in enumerate(rows)
           if not isinstance(r, Mapping)]
    if bad:
        raise ValidationError(bad)


def as_number(value: Any, name: str, errors: list[FieldError], *, minimum: float | None = None,
              maximum: float | None = None, integer: bool = False) -> float:
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
        errors.append(FieldError(name, f"{kind} (finite)", repr(value)))
        return 0.0
    if integer and not float(value).is_integer():
        errors.append(FieldError(name, kind, repr(value)))
        return 0.0
    if minimum is not None and value < minimum:
        errors.append(FieldError(name, f"{kind} >= {minimum:g}", repr(value)))
        return 0.0
    if maximum is not None and value > maximum:
        errors.append(FieldError(name, f"{kind} <= {maximum:g}", repr(value)))
        return 0.0
    return float(value)


def _show(value: Any) -> str:
    if value is None:
        return "nothing (missing)"
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def show(value: Any) -> str:
    return _show(value)


def raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError(errors)
