"""The reference data Shapley values are measured against.

Rules, in order:
1. ``model.background`` rows, when the model declares them (more than ``max_rows`` are subsampled
   deterministically with the seed, order kept);
2. else ONE baseline row built from the feature specs: ``default`` if set, else the midpoint of
   ``minimum``/``maximum`` (rounded half-up for integers), else the first of ``choices``, else
   ``False`` for booleans, ``""`` for strings and ``[]`` for arrays (the "absent" value of a text or
   list field). A number with none of these has no neutral value we could defend, so the explanation
   is refused with ``ExplanationError`` naming the field (declare ``background`` or a ``default``).

A background row that lacks an explained field gets that field from the same rule; keys that are not
explained fields are dropped (they would change the output without being credited: additivity).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hotcrm_ai.errors import ExplanationError
from hotcrm_ai.text import round_half_up
from hotcrm_ai.types import FeatureSpec, ModelConfig

_MISSING = object()


def feature_baseline(spec: FeatureSpec | None) -> Any:
    """The neutral value of one field, or ``_MISSING`` when there is none to defend."""
    if spec is None:
        return _MISSING
    if spec.default is not None:
        return spec.default
    if spec.dtype in ("number", "integer") and spec.minimum is not None and spec.maximum is not None:
        mid = (spec.minimum + spec.maximum) / 2
        return int(round_half_up(mid)) if spec.dtype == "integer" else mid
    if spec.choices:
        return spec.choices[0]
    if spec.dtype == "boolean":
        return False
    if spec.dtype == "string":
        return ""
    if spec.dtype == "array":
        return []
    return _MISSING


def _fill(model: ModelConfig, name: str) -> Any:
    value = feature_baseline(model.feature(name))
    if value is _MISSING:
        spec = model.feature(name)
        why = (
            "it is not in the model's feature specs"
            if spec is None
            else (f"its spec ({spec.dtype}) has no default, no minimum/maximum and no choices")
        )
        raise ExplanationError(
            f"model {model.id}: no background value for feature {name!r}: {why}; "
            "declare background rows on the model or a default for the feature"
        )
    return value


def background_rows(
    model: ModelConfig, names: Sequence[str], *, max_rows: int = 100, seed: int = 0
) -> tuple[list[dict[str, Any]], str]:
    """Background rows restricted to ``names``, and where they came from (``model`` or ``feature-defaults``)."""
    if max_rows < 1:
        raise ExplanationError(f"max_background: expected at least 1 row, got {max_rows}")
    declared: Sequence[Mapping[str, Any]] = model.background
    if not declared:
        return [{n: _fill(model, n) for n in names}], "feature-defaults"
    if len(declared) > max_rows:
        import numpy as np

        keep = np.sort(np.random.default_rng(seed).choice(len(declared), size=max_rows, replace=False))
        declared = [declared[int(i)] for i in keep]
    fills: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for row in declared:
        out: dict[str, Any] = {}
        for n in names:
            if n in row:
                out[n] = row[n]
            else:
                if n not in fills:
                    fills[n] = _fill(model, n)
                out[n] = fills[n]
        rows.append(out)
    return rows, "model"
