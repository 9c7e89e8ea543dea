"""Text formatting for reason texts and narratives: JavaScript-style title case, en-US number
formatting and half-away-from-zero rounding, so texts read the same as those CRM users already know."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from typing import Any

_WORD_START = re.compile(r"\b\w")
_PREC = 330  # digits of the largest float (1.8e308) plus its repr's fraction digits


def title_case(name: str) -> str:
    """``company_size`` -> ``Company Size``; ``e-mail`` -> ``E-Mail`` (JS ``\\b\\w`` upper-casing)."""
    return _WORD_START.sub(lambda m: m.group(0).upper(), name.replace("_", " "))


def round_half_up(value: float, digits: int = 0) -> Decimal:
    """JS ``toFixed`` rounding (halves away from zero), not Python's banker's rounding."""
    quant = Decimal(1).scaleb(-digits)
    # the default 28-digit context raised InvalidOperation for |value| >= ~1e25: give quantize room for any float
    return Decimal(repr(value)).quantize(quant, rounding=ROUND_HALF_UP, context=Context(prec=_PREC + max(digits, 0)))


def whole_half_up(value: float) -> int:
    """``int(round_half_up(value))`` for a finite float below 2**52 in magnitude, without ``Decimal``:
    ``value - floor(value)`` is exact there, and a float is above, at or below a half exactly when its
    shortest repr (what ``round_half_up`` reads) is, since halves are themselves floats."""
    if value < 0:
        return -whole_half_up(-value)
    whole = math.floor(value)
    return whole + 1 if value - whole >= 0.5 else whole


def format_number(value: float) -> str:
    """en-US ``toLocaleString()``: thousands separators, at most 3 fraction digits, no trailing zeros."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if type(value) is int and -_EXACT < value < _EXACT:  # what the decimal route gives for an exact integer
        return f"{value:,}"
    if not math.isfinite(value):
        return "∞" if value > 0 else ("-∞" if value < 0 else "NaN")
    return _format_float(float(value))


_EXACT = 2**53


@lru_cache(maxsize=4096)
def _format_float(value: float) -> str:
    """``format_number`` of a finite float (remembered: CRM values repeat, and the decimal route is slow)."""
    d = round_half_up(value, 3)
    if d == 0:
        d = Decimal(0)
    text = f"{d:,.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_value(value: Any) -> str:
    """How a feature value is shown in explanation text."""
    if type(value) is str:  # the usual CRM category, shown as it is
        return value
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float)):
        return format_number(value)
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return ",".join(format_value(v) for v in value)
    return str(value)
