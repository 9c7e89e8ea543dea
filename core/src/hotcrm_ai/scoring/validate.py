"""Column-wise validation: the rules of ``prediction.validation`` applied to whole columns at once.

Each field gets a cheap vectorised screen (finite numbers within bounds, strings among the choices);
rows the screen flags, and any column the screen cannot judge, go through the very per-field checker
single predictions use, and a refused row is given the message ``validate_features`` raises for it.
So the rules and the words are the same as ``predict``'s; only the common, valid case is faster.

A missing value (None, or null in a table) means the field is absent from that row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from hotcrm_ai.errors import ValidationError
from hotcrm_ai.prediction.validation import _compiled, validate_features
from hotcrm_ai.scoring.output import Categories
from hotcrm_ai.types import FeatureSpec, ModelConfig

Columns = Mapping[str, Any]  # name -> numpy array (no missing values) or list (None = missing)


def _number_screen(spec: FeatureSpec, arr: np.ndarray) -> np.ndarray | None:
    """Rows of a numeric numpy column that may break ``spec`` (None: the screen cannot judge it)."""
    if arr.dtype.kind not in "fiu":
        return None
    bad = np.zeros(len(arr), dtype=bool)
    if arr.dtype.kind == "f":
        bad |= ~np.isfinite(arr)
        if spec.dtype == "integer":
            with np.errstate(invalid="ignore"):
                bad |= arr != np.floor(arr)
    if spec.minimum is not None:
        bad |= arr < spec.minimum
    if spec.maximum is not None:
        bad |= arr > spec.maximum
    return bad


def _screen(spec: FeatureSpec, col: Any, check: Any) -> tuple[np.ndarray, Any]:
    """Rows of one column that fail (True) under ``spec`` (None values are judged by the caller), and
    the column to hand on: numbers that were checked as an array stay an array."""
    n = len(col)
    if isinstance(col, Categories):  # each distinct value checked once
        bad_value = np.fromiter((check(v) is not None for v in col.values), dtype=bool, count=len(col.values))
        return np.append(bad_value, False)[col.codes], col
    if isinstance(col, np.ndarray) and spec.dtype in ("number", "integer") and spec.choices is None:
        bad = _number_screen(spec, col)
        if bad is not None:
            return bad, col
    if (
        isinstance(col, np.ndarray)
        and spec.dtype in ("number", "integer")
        and spec.choices is not None
        and col.dtype.kind in "iu"
    ):
        numbers = [c for c in spec.choices if type(c) is int]
        return ~np.isin(col, numbers), col
    if spec.dtype == "string" and spec.choices is not None and spec.max_length is None and isinstance(col, list):
        allowed = frozenset(c for c in spec.choices if isinstance(c, str))
        try:
            if allowed.issuperset(col):  # C speed; None is never a choice, so missing values fall through
                return np.zeros(n, dtype=bool), col
        except TypeError:  # an unhashable value (a list, an object): the checker words it
            pass
    if spec.dtype in ("number", "integer") and spec.choices is None and isinstance(col, list):
        kinds = set(map(type, col))
        if kinds <= {int, float}:  # (no None either)
            try:
                arr = np.asarray(col, dtype=np.int64 if kinds == {int} else np.float64)
            except OverflowError:  # an integer beyond the range: the checker words it
                arr = None
            bad = _number_screen(spec, arr) if arr is not None else None
            if bad is not None:
                return bad, arr
    return np.fromiter((v is not None and check(v) is not None for v in col), dtype=bool, count=n), col


class ValidatedColumns(dict[str, Any]):
    """Columns that passed ``validate_columns`` for the model ``model_key`` (``id@version``), every row
    valid: what the scoring path hands to ``predict_columns``. Like ``PredictionInput.validated`` for
    rows, a provider may skip its own checks of these values for that model; a plain mapping (a
    direct call) is checked in full."""

    __slots__ = ("model_key",)

    def __init__(self, columns: Columns, model_key: str) -> None:
        super().__init__(columns)
        self.model_key = model_key


def validated_for(columns: Any, model: ModelConfig) -> bool:
    """Whether ``columns`` were validated against ``model`` by the core (so need no second check)."""
    return isinstance(columns, ValidatedColumns) and columns.model_key == model.key


def missing_mask(col: Any) -> np.ndarray:
    if isinstance(col, Categories):
        return col.codes < 0
    if isinstance(col, np.ndarray):
        if col.dtype == object:
            return np.fromiter((v is None for v in col), dtype=bool, count=len(col))
        return np.zeros(len(col), dtype=bool)
    if None not in col:  # C speed, the usual case
        return np.zeros(len(col), dtype=bool)
    return np.fromiter((v is None for v in col), dtype=bool, count=len(col))


def row(columns: Columns, i: int) -> dict[str, Any]:
    """Row ``i`` as the dict a caller of ``predict`` would pass (missing values left out)."""
    out = {}
    for name, col in columns.items():
        v = col[i]
        if v is None:
            continue
        out[name] = v.item() if isinstance(v, np.generic) else v
    return out


def validate_columns(model: ModelConfig, columns: Columns, n: int) -> tuple[dict[str, Any], dict[int, ValidationError]]:
    """The model's feature columns with defaults filled in, and the refused rows with their error.

    The clean columns still have ``n`` rows (refused rows hold placeholders); take the valid rows
    with ``select``."""
    if not model.features:  # any JSON object: the row-wise rule is the rule
        return _row_by_row(model, columns, n, range(n))
    flagged = np.zeros(n, dtype=bool)
    clean: dict[str, Any] = {}
    for spec, check in _compiled(model):
        col = columns.get(spec.name)
        if col is None:
            if spec.required:
                flagged[:] = True
            elif spec.default is not None:
                clean[spec.name] = [spec.default] * n
            continue
        missing = missing_mask(col)
        bad, col = _screen(spec, col, check)
        flagged |= bad
        if missing.any():
            if spec.required:
                flagged |= missing
            elif spec.default is not None:
                col = [spec.default if v is None else v for v in col]
        elif isinstance(col, Categories) and not (spec.dtype == "string" and spec.choices is not None):
            col = col.tolist()  # only choice fields stay coded: other checks and models expect values
        clean[spec.name] = col
    known = {s.name for s in model.features}
    for name, col in columns.items():
        if name not in known:
            flagged |= ~missing_mask(col)
    errors: dict[int, ValidationError] = {}
    if flagged.any():
        _, errors = _row_by_row(model, columns, n, np.flatnonzero(flagged).tolist())
    return clean, errors


def _row_by_row(
    model: ModelConfig, columns: Columns, n: int, rows: Any
) -> tuple[dict[str, Any], dict[int, ValidationError]]:
    errors: dict[int, ValidationError] = {}
    values: list[dict[str, Any]] = []
    for i in rows:
        try:
            values.append(validate_features(model, row(columns, i)))
        except ValidationError as exc:
            errors[i] = exc
            values.append({})
    if model.features:
        return {}, errors
    names: dict[str, None] = {}
    for v in values:
        names.update(dict.fromkeys(v))
    return {k: [v.get(k) for v in values] for k in names}, errors


def select(columns: Columns, index: np.ndarray | None) -> dict[str, Any]:
    """The rows at ``index`` of every column (all of them when ``index`` is None)."""
    if index is None:
        return dict(columns)
    out: dict[str, Any] = {}
    for name, col in columns.items():
        if isinstance(col, (np.ndarray, Categories)):
            out[name] = col[index] if isinstance(col, np.ndarray) else col.take(index)
        else:
            out[name] = [col[i] for i in index.tolist()]
    return out
