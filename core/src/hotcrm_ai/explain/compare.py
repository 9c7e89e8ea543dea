"""Compare two inputs of one model with real attributions: which changed features moved the output.

Both inputs are explained with the same method and background; a feature is a difference when its
value changed (Python equality, not object identity, so two equal lists are equal), and its
``impact_difference`` is how much its Shapley value moved. Note that with interactions an unchanged
feature's credit can move too: ``output_difference`` is the whole change, the listed ones are the
changed fields only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from hotcrm_ai.explain.result import label_of
from hotcrm_ai.explain.text import comparison_text
from hotcrm_ai.types import Explanation, ModelConfig

_MISSING = object()


@attrs.frozen
class FeatureDifference:
    feature: str
    value1: Any
    value2: Any
    impact_difference: float
    label: str = ""


@attrs.frozen
class Comparison:
    differences: tuple[FeatureDifference, ...]
    text: str
    output_kind: str
    output_value1: float
    output_value2: float
    output_difference: float
    explanation1: Explanation
    explanation2: Explanation


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def build_comparison(
    model: ModelConfig, a: Mapping[str, Any], b: Mapping[str, Any], ea: Explanation, eb: Explanation
) -> Comparison:
    ca = {c.feature: c.contribution for c in ea.contributions}
    cb = {c.feature: c.contribution for c in eb.contributions}
    keys = list(a) + [k for k in b if k not in a]
    diffs: list[FeatureDifference] = []
    for k in keys:
        v1, v2 = a.get(k, _MISSING), b.get(k, _MISSING)
        if _same(v1, v2):
            continue
        diffs.append(
            FeatureDifference(
                feature=k,
                value1=None if v1 is _MISSING else v1,
                value2=None if v2 is _MISSING else v2,
                impact_difference=float(cb.get(k, 0.0) - ca.get(k, 0.0)),
                label=label_of(model, k),
            )
        )
    diffs.sort(key=lambda d: -abs(d.impact_difference))  # stable: ties keep input order
    return Comparison(
        differences=tuple(diffs),
        text=comparison_text(diffs),
        output_kind=ea.output_kind,
        output_value1=ea.output_value,
        output_value2=eb.output_value,
        output_difference=eb.output_value - ea.output_value,
        explanation1=ea,
        explanation2=eb,
    )
