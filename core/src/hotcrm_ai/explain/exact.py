"""Exact interventional Shapley values: every coalition, scored against the background in ONE call.

``v(S)`` is the mean model output over background rows with the features in ``S`` set to the
explained values; ``phi_i = sum_S |S|!(M-|S|-1)!/M! (v(S+i) - v(S))``. Cost: ``(2^M - 1) * B + 1``
model evaluations, so this is the method for up to about 12 input fields.
"""

from __future__ import annotations

import math

import numpy as np

from hotcrm_ai.errors import ExplanationError
from hotcrm_ai.explain.coalitions import CoalitionRows, distinct_rows_per_background, same_as_explained
from hotcrm_ai.explain.result import build_explanation
from hotcrm_ai.interfaces import ExplanationTask
from hotcrm_ai.types import Explanation

HARD_MAX_FEATURES = 20  # 2^20 coalitions: beyond this even the bookkeeping is unreasonable


def exact_cost(n_features: int, n_background: int) -> int:
    """Model evaluations for one exact explanation at most (the full coalition needs a single row)."""
    return (2**n_features - 1) * n_background + 1


def task_cost(task: ExplanationTask) -> int:
    """Evaluations this task really needs: distinct rows only (``coalitions`` deduplicates rows where
    background values already equal the explained ones)."""
    names = list(task.features)
    if not names or not task.background:
        return 1
    same = same_as_explained(names, task.features, task.background)
    return 1 + int(distinct_rows_per_background(same, include_full=False).sum())


def all_masks(m: int) -> np.ndarray:
    """Boolean masks of every coalition, mask ``k`` holding feature ``i`` iff bit ``i`` of ``k`` is set."""
    idx = np.arange(2**m, dtype=np.int64)
    return ((idx[:, None] >> np.arange(m, dtype=np.int64)) & 1).astype(bool)


def shapley_from_values(v: np.ndarray, m: int) -> np.ndarray:
    """Shapley values from ``v`` indexed by coalition bitmask (length ``2^m``)."""
    idx = np.arange(2**m, dtype=np.int64)
    size = np.zeros(2**m, dtype=np.int64)
    for i in range(m):
        size += (idx >> i) & 1
    weight = np.array([math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m) for s in range(m)])
    phi = np.empty(m)
    for i in range(m):
        without = idx[((idx >> i) & 1) == 0]
        phi[i] = float(np.dot(weight[size[without]], v[without | (1 << i)] - v[without]))
    return phi


class ExactExplainer:
    name = "exact"

    def __init__(self, max_features: int = HARD_MAX_FEATURES) -> None:
        self.max_features = min(max_features, HARD_MAX_FEATURES)

    def supports(self, task: ExplanationTask) -> bool:
        m = len(task.features)
        b = len(task.background)
        return 1 <= m <= self.max_features and b >= 1 and task_cost(task) <= task.budget

    def explain(self, task: ExplanationTask) -> Explanation:
        names = list(task.features)
        m, b = len(names), len(task.background)
        if not 1 <= m <= self.max_features:
            raise ExplanationError(f"exact: expected 1-{self.max_features} features, got {m}; use kernel")
        if b < 1:
            raise ExplanationError("exact: expected at least one background row")
        cost = task_cost(task)
        if cost > task.budget:
            raise ExplanationError(
                f"exact: needs {cost} model evaluations ({m} features x {b} background rows), "
                f"budget is {task.budget}; use kernel or fewer background rows"
            )
        masks = all_masks(m)[:-1]  # the full coalition is the explained row itself
        rows = CoalitionRows(names, task.features, task.background, masks, lead=[dict(task.features)])
        scores = np.asarray(task.score(rows), dtype=float)
        if scores.shape != (len(rows),):
            raise ExplanationError(f"exact: expected {len(rows)} scores, got shape {scores.shape}")
        output = float(scores[0])
        v = np.append(rows.values(scores), output)
        phi = shapley_from_values(v, m)
        return build_explanation(
            task.model,
            task.features,
            names,
            phi,
            float(v[0]),
            output,
            output_kind=task.output_kind,
            method=self.name,
            evaluations=len(rows),
            exact=True,
            metadata={"background_rows": b, "coalitions": 2**m, "rows_deduplicated": exact_cost(m, b) - len(rows)},
        )
