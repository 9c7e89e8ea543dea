"""Turn Shapley values into an ``Explanation``: labels, importance %, top 5 and the reason text.

Shared by every built-in explainer so a third-party explainer can reuse it and get the same shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
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


def list_importances(phi: list[float]) -> list[float]:
    """``importances`` of a plain list, without numpy's per-call overhead (one row)."""
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
        values, imp = phi, list_importances(phi)
    else:
        values, imp = np.asarray(phi, dtype=float).tolist(), importances(phi).tolist()
    shown = labels if labels is not None else [label_of(model, n) for n in names]
    contributions = contribution_records(names, features, values, imp, shown)
    top = tuple([contributions[k] for k in top_order(imp)])
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


def top_order(imp: list[float]) -> list[int]:
    """Indices of the ``TOP_N`` largest importances, largest first; the sort is stable, so ties keep
    the input order."""
    return sorted(range(len(imp)), key=imp.__getitem__, reverse=True)[:TOP_N]


def _plain_record_setters() -> tuple[Callable[[Any, Any], None], ...] | None:
    """The slot setters of ``FeatureContribution`` when it is a plain frozen record (no validator,
    converter or ``__attrs_post_init__``), so an instance can be filled without a Python ``__init__``
    call per field list; None (use the constructor) the day it is not."""
    fields = attrs.fields(FeatureContribution)
    plain = all(f.validator is None and f.converter is None for f in fields) and not hasattr(
        FeatureContribution, "__attrs_post_init__"
    )
    slots = [FeatureContribution.__dict__.get(f.name) for f in fields]
    if not plain or [f.name for f in fields] != list(_FIELDS) or not all(hasattr(s, "__set__") for s in slots):
        return None
    return tuple(s.__set__ for s in slots)  # type: ignore[union-attr]


_FIELDS = ("feature", "value", "contribution", "importance", "label")
_SETTERS = _plain_record_setters()


def contribution_records(
    names: Sequence[str], values: Mapping[str, Any], phi: list[float], imp: list[float], labels: Sequence[str]
) -> tuple[FeatureContribution, ...]:
    """One ``FeatureContribution`` per field: the same objects the constructor makes, a third cheaper
    (most of an ``Explanation`` of a short row is these objects)."""
    if _SETTERS is None:
        fc = FeatureContribution
        return tuple([fc(n, values[n], p, i, lb) for n, p, i, lb in zip(names, phi, imp, labels, strict=True)])
    new, cls = object.__new__, FeatureContribution
    s_feature, s_value, s_contribution, s_importance, s_label = _SETTERS
    out = []
    for n, p, i, lb in zip(names, phi, imp, labels, strict=True):
        c = new(cls)
        s_feature(c, n)
        s_value(c, values[n])
        s_contribution(c, p)
        s_importance(c, i)
        s_label(c, lb)
        out.append(c)
    return tuple(out)
