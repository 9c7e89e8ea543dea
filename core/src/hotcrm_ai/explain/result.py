"""Turn Shapley values into an ``Explanation``: labels, importance %, top 5 and the reason text.

Shared by every built-in explainer so a third-party explainer can reuse it and get the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hotcrm_ai.explain.text import reason_text
from hotcrm_ai.text import title_case
from hotcrm_ai.types import Explanation, FeatureContribution, ModelConfig

TOP_N = 5


def label_of(model: ModelConfig, name: str) -> str:
    spec = model.feature(name)
    return spec.display_name if spec is not None else title_case(name)


def importances(phi: np.ndarray) -> np.ndarray:
    """Each feature's share of the total absolute attribution, in % (all zero for a constant model)."""
    mag = np.abs(np.asarray(phi, dtype=float))
    total = float(mag.sum())
    return mag * (100.0 / total) if total > 0 else np.zeros_like(mag)


def _importances(phi: list[float]) -> list[float]:
    """``importances`` of a plain list, without numpy's per-call overhead (one short row)."""
    mag = [abs(v) for v in phi]
    total = sum(mag)
    if not total > 0:
        return [0.0] * len(mag)
    scale = 100.0 / total
    return [m * scale for m in mag]


def build_explanation(
    model: ModelConfig,
    features: Mapping[str, Any],
    names: Sequence[str],
    phi: np.ndarray | list[float],
    base_value: float,
    output_value: float,
    *,
    output_kind: str,
    method: str,
    evaluations: int = 0,
    exact: bool = True,
    error_estimate: float | None = None,
    metadata: Mapping[str, Any] | None = None,
    labels: Sequence[str] | None = None,
    effects: Mapping[str, str] | None = None,
) -> Explanation:
    if isinstance(phi, list):  # one short row (the linear closed form): plain floats are faster
        values, imp = phi, _importances(phi)
    else:
        values, imp = np.asarray(phi, dtype=float).tolist(), importances(phi).tolist()
    shown = labels if labels is not None else [label_of(model, n) for n in names]
    fc = FeatureContribution
    contributions = tuple([fc(n, features[n], p, i, lb) for n, p, i, lb in zip(names, values, imp, shown, strict=True)])
    # largest importance first; reverse sorting is stable too, so ties keep the input order
    top = tuple([contributions[k] for k in sorted(range(len(imp)), key=imp.__getitem__, reverse=True)[:TOP_N]])
    return Explanation(
        base_value=float(base_value),
        output_value=float(output_value),
        output_kind=output_kind,
        contributions=contributions,
        top_features=top,
        text=reason_text(top, effects),
        method=method,
        evaluations=evaluations,
        exact=exact,
        error_estimate=error_estimate,
        metadata=metadata or {},  # copied by Explanation's converter
    )
