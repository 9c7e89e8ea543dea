"""Feature validation against a model's ``FeatureSpec``s. Every bad field is reported, not just the
first, so a caller fixes a payload in one round trip."""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Callable, Mapping
from typing import Any

from hotcrm_ai.errors import FieldError, ValidationError
from hotcrm_ai.types import FeatureSpec, ModelConfig

MAX_STRING = 1_000_000  # characters; larger strings are refused before they reach a provider or a key
MAX_DEPTH = 32
_FLOAT_MAX = sys.float_info.max
_NOT_FINITE = "a finite number (not NaN, infinity or beyond ±1.8e308)"


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"string {value[:40]!r}" + ("..." if len(value) > 40 else "")
    if isinstance(value, bool):
        return f"boolean {value}"
    if isinstance(value, int) and abs(value) > _FLOAT_MAX:
        return f"an integer of {value.bit_length()} bits"  # repr of a huge int is slow or refused
    if isinstance(value, (int, float)):
        return f"{type(value).__name__} {value!r:.60}"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: float) -> bool:
    """NaN, infinity and integers beyond the float range are not usable numbers (a model computes in
    floats; ``math.isfinite`` would raise OverflowError on such an integer)."""
    if isinstance(value, int):
        return abs(value) <= _FLOAT_MAX
    return math.isfinite(value)


def _json_problem(value: Any, depth: int = 0) -> str | None:
    """Why ``value`` is not plain finite JSON, or None."""
    if depth > MAX_DEPTH:
        return f"at most {MAX_DEPTH} levels of nesting"
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return None if _finite(value) else _NOT_FINITE
    if isinstance(value, str):
        return None if len(value) <= MAX_STRING else f"a string of at most {MAX_STRING} characters"
    if isinstance(value, (list, tuple)):
        return next((p for p in (_json_problem(v, depth + 1) for v in value) if p), None)
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                return "object keys that are strings"
            problem = _json_problem(v, depth + 1)
            if problem:
                return problem
        return None
    return "a JSON value (string, number, boolean, null, array or object)"


def _check(spec: FeatureSpec, value: Any) -> str | None:
    """What was expected, when ``value`` does not satisfy ``spec``; None when it does."""
    dtype = spec.dtype
    if dtype == "number":
        if not _is_number(value):
            return "a number"
        if not _finite(value):
            return _NOT_FINITE
    elif dtype == "integer":
        if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
            return "an integer"
        if not _finite(value):
            return _NOT_FINITE
    elif dtype == "string":
        if not isinstance(value, str):
            return "a string"
    elif dtype == "boolean":
        if not isinstance(value, bool):
            return "true or false"
    elif dtype == "array":
        if not isinstance(value, (list, tuple)):
            return "an array"
        if spec.items is not None:
            item_spec = FeatureSpec(name=spec.name, dtype=spec.items, minimum=spec.minimum, maximum=spec.maximum)
            for i, item in enumerate(value):
                problem = _check(item_spec, item)
                if problem:
                    return f"an array of {spec.items} values (item {i}: {problem})"
    elif dtype == "object" and not isinstance(value, Mapping):
        return "an object"
    problem = _json_problem(value)
    if problem:
        return problem
    if spec.choices is not None and value not in spec.choices:
        shown = ", ".join(repr(c) for c in spec.choices[:20]) + (", ..." if len(spec.choices) > 20 else "")
        return f"one of {shown}"
    if _is_number(value) and dtype in ("number", "integer"):
        if spec.minimum is not None and value < spec.minimum:
            return f"a value >= {spec.minimum:g}"
        if spec.maximum is not None and value > spec.maximum:
            return f"a value <= {spec.maximum:g}"
    if spec.max_length is not None and isinstance(value, (str, list, tuple)) and len(value) > spec.max_length:
        return f"a length of at most {spec.max_length}"
    return None


_INF = float("inf")


def _fast_number(spec: FeatureSpec) -> Callable[[Any], str | None]:
    """A checker for number/integer fields without choices: the hot path of tabular models."""
    lo, hi, integer = spec.minimum, spec.maximum, spec.dtype == "integer"

    def check(value: Any) -> str | None:
        t = type(value)
        if t is float:
            if value != value or value == _INF or value == -_INF:
                return _NOT_FINITE if not integer else "an integer"
            if integer and not value.is_integer():
                return "an integer"
        elif t is not int or value > _FLOAT_MAX or value < -_FLOAT_MAX:
            return _check(spec, value)
        if lo is not None and value < lo:
            return f"a value >= {lo:g}"
        if hi is not None and value > hi:
            return f"a value <= {hi:g}"
        return None

    return check


def _checker(spec: FeatureSpec) -> Callable[[Any], str | None]:
    if spec.dtype in ("number", "integer") and spec.choices is None:
        return _fast_number(spec)
    if spec.dtype == "string" and spec.choices is not None and spec.max_length is None:
        allowed = frozenset(c for c in spec.choices if isinstance(c, str))
        return lambda v: None if type(v) is str and v in allowed else _check(spec, v)
    return lambda v: _check(spec, v)


_NUMBERS = frozenset((float, int))


class _Plan:
    """A model's checks, built once: one checker per field and, when every field is a ``number``
    without choices, what the all-present fast path needs (the names, the bounded fields)."""

    __slots__ = ("bounded", "checks", "getter", "names")

    def __init__(self, model: ModelConfig) -> None:
        self.checks = [(spec, _checker(spec)) for spec in model.features]
        simple = bool(model.features) and all(s.dtype == "number" and s.choices is None for s in model.features)
        self.names: tuple[str, ...] | None = tuple(spec.name for spec in model.features) if simple else None
        names = self.names or ("",)
        self.getter: Callable[[Mapping[str, Any]], Any] = (
            operator.itemgetter(*names) if len(names) > 1 else lambda f: (f[names[0]],)
        )
        self.bounded = [
            (i, -_FLOAT_MAX if s.minimum is None else s.minimum, _FLOAT_MAX if s.maximum is None else s.maximum)
            for i, s in enumerate(model.features)
            if s.minimum is not None or s.maximum is not None
        ]

    def fast(self, features: Mapping[str, Any]) -> dict[str, Any] | None:
        """The clean features when every field is present, a finite int or float and in bounds, and
        nothing else is there (what the full check would return); None: take the full check.

        Finiteness of all values at once: their ``sum`` is NaN or infinite when any value is (NaN for
        infinities of both signs) and raises OverflowError for an int beyond the float range (even
        one that another would cancel); a sum
        of finite values that overflows is infinite too, and the full check then decides."""
        names = self.names
        if names is None or len(features) != len(names):
            return None
        # a row written in the model's field order (what clients and batches usually send) is read
        # and copied whole; any other order is looked up name by name and rebuilt in the model's order
        in_order = type(features) is dict and tuple(features) == names
        if in_order:
            values = tuple(features.values())
        else:
            try:
                values = self.getter(features)
            except KeyError:
                return None
        if not _NUMBERS.issuperset(map(type, values)):  # bool, str, None...: the full check words it
            return None
        try:
            total = sum(values, 0.0)  # a float start converts every int: OverflowError beyond the range
        except OverflowError:
            return None
        if not -_FLOAT_MAX <= total <= _FLOAT_MAX:  # NaN fails the comparison
            return None
        for i, lo, hi in self.bounded:
            if not lo <= values[i] <= hi:
                return None
        return dict(features) if in_order else dict(zip(names, values))  # noqa: B905 - same length


_COMPILED: dict[int, tuple[ModelConfig, _Plan]] = {}


def _plan(model: ModelConfig) -> _Plan:
    """Per-model checks, built once (models are frozen; the entry keeps the model alive)."""
    entry = _COMPILED.get(id(model))
    if entry is not None and entry[0] is model:
        return entry[1]
    plan = _Plan(model)
    if len(_COMPILED) > 1024:
        _COMPILED.clear()
    _COMPILED[id(model)] = (model, plan)
    return plan


def _compiled(model: ModelConfig) -> list[tuple[FeatureSpec, Callable[[Any], str | None]]]:
    """Per-model checkers, one per feature (built once, with the model's plan)."""
    return _plan(model).checks


def validate_features(model: ModelConfig, features: Any) -> dict[str, Any]:
    """Return the features with optional defaults filled in, or raise ``ValidationError`` naming every
    bad field. Models without feature specs accept any JSON object."""
    if type(features) is not dict and not isinstance(features, Mapping):  # no ABC check for a dict
        raise ValidationError(
            [FieldError("features", "an object of feature values", _describe(features))],
            subject=f"input for {model.id}",
        )
    if not model.features:
        errors: list[FieldError] = [
            FieldError(repr(k), "feature names that are strings") for k in features if not isinstance(k, str)
        ]
        problem = _json_problem(dict(features))
        if problem:
            errors.append(FieldError("features", problem))
        if errors:
            raise ValidationError(errors, subject=f"input for {model.id}")
        return dict(features)
    entry = _COMPILED.get(id(model))  # _plan(model), written out for the model seen before
    plan = entry[1] if entry is not None and entry[0] is model else _plan(model)
    clean = plan.fast(features)
    if clean is not None:
        return clean
    out: dict[str, Any] = {}
    failed: list[tuple[FeatureSpec, str, Any]] = []
    present = 0  # input keys that name a feature; fewer than len(features) means unknown fields
    for spec, check in plan.checks:
        value = features.get(spec.name)
        if spec.name in features:
            present += 1
        if value is None:
            if spec.required:
                failed.append((spec, "", None))
            elif spec.default is not None:
                out[spec.name] = spec.default
            continue
        problem = check(value)
        if problem is None:
            out[spec.name] = value
        else:
            failed.append((spec, problem, value))
    if failed or len(features) > present:
        _raise(model, features, failed)
    return out


def _raise(model: ModelConfig, features: Mapping[Any, Any], failed: list[tuple[FeatureSpec, str, Any]]) -> None:
    errors: list[FieldError] = [
        FieldError(repr(k), "feature names that are strings") for k in features if not isinstance(k, str)
    ]
    for spec, problem, value in failed:
        if not problem:
            errors.append(FieldError(spec.name, f"a value ({spec.dtype}); the field is required", "nothing"))
        else:
            errors.append(FieldError(spec.name, problem, _describe(value)))
    known = {f.name for f in model.features}
    for name in sorted(str(k) for k in features if k not in known):
        errors.append(FieldError(name[:100], f"a known feature ({', '.join(sorted(known))[:300]})", "an unknown field"))
    if errors:
        raise ValidationError(errors, subject=f"input for {model.id}")
