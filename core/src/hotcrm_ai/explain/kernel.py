"""Kernel SHAP with paired sampling and the additivity constraint solved exactly (Covert & Lee 2021).

Coalitions are drawn from the Shapley kernel (size ``s`` with probability proportional to
``1/(s(M-s))``, then a uniform subset), each together with its complement (paired sampling, which
cancels much of the variance and is exact for games of order two). The attributions solve the weighted
least-squares problem under ``sum(phi) = f(x) - E[f]`` by its KKT equations, so additivity holds to
rounding whatever the sample. When the budget covers every coalition, they are all enumerated with
their exact kernel weights and the result is the exact Shapley value (``exact=True``).

The error estimate is the bootstrap standard error over sampled pairs (no extra model evaluations);
``error_estimate`` is the largest over features, ``metadata["std_errors"]`` has them all.
"""

from __future__ import annotations

import math

import numpy as np

from hotcrm_ai.errors import ExplanationError
from hotcrm_ai.explain.coalitions import CoalitionRows, coalition_values
from hotcrm_ai.explain.exact import all_masks
from hotcrm_ai.explain.result import build_explanation
from hotcrm_ai.interfaces import ExplanationTask
from hotcrm_ai.types import Explanation


def _solve(z: np.ndarray, y: np.ndarray, w: np.ndarray, delta: float) -> np.ndarray:
    """argmin sum w (y - z.phi)^2 subject to sum(phi) = delta."""
    a = z.T @ (z * w[:, None])
    b = z.T @ (w * y)
    ones = np.ones(z.shape[1])
    try:
        a_inv_b = np.linalg.solve(a, b)
        a_inv_1 = np.linalg.solve(a, ones)
    except np.linalg.LinAlgError:
        pinv = np.linalg.pinv(a)
        a_inv_b, a_inv_1 = pinv @ b, pinv @ ones
    return a_inv_b - a_inv_1 * (a_inv_b.sum() - delta) / a_inv_1.sum()


def kernel_weights(sizes: np.ndarray, m: int) -> np.ndarray:
    """Shapley kernel weight of coalitions of the given sizes (0 < s < m)."""
    comb = np.array([math.comb(m, int(s)) for s in sizes], dtype=float)
    return (m - 1) / (comb * sizes * (m - sizes))


def sample_paired_masks(m: int, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """``2 * n_pairs`` masks: ``n_pairs`` kernel-distributed coalitions, then their complements."""
    sizes = np.arange(1, m)
    p = 1.0 / (sizes * (m - sizes))
    s = rng.choice(sizes, size=n_pairs, p=p / p.sum())
    r = rng.random((n_pairs, m))
    threshold = np.sort(r, axis=1)[np.arange(n_pairs), s - 1]
    masks = r <= threshold[:, None]
    return np.vstack([masks, ~masks])


class KernelExplainer:
    name = "kernel"

    def __init__(self, bootstrap: int = 32, min_pairs_per_feature: int = 1) -> None:
        self.bootstrap = bootstrap
        self.min_pairs_per_feature = min_pairs_per_feature

    def _min_cost(self, m: int, b: int) -> int:
        interior = 2**m - 2 if m < 62 else 2**62
        needed = min(interior, 2 * max(1, self.min_pairs_per_feature * m))
        return 1 + b * (1 + needed)

    def supports(self, task: ExplanationTask) -> bool:
        m = len(task.features)
        return m >= 1 and len(task.background) >= 1 and self._min_cost(m, len(task.background)) <= task.budget

    def explain(self, task: ExplanationTask) -> Explanation:
        names = list(task.features)
        m, b = len(names), len(task.background)
        if m < 1 or b < 1:
            raise ExplanationError(f"kernel: expected at least one feature and one background row, got {m} and {b}")
        if self._min_cost(m, b) > task.budget:
            raise ExplanationError(
                f"kernel: needs at least {self._min_cost(m, b)} model evaluations for {m} features x {b} "
                f"background rows, budget is {task.budget}"
            )
        affordable = (task.budget - 1 - b) // b  # coalitions besides the empty one and the explained row
        interior = 2**m - 2 if m < 62 else None
        enumerate_all = interior is not None and affordable >= interior
        rng = np.random.default_rng(task.seed)
        if enumerate_all:
            inner = all_masks(m)[1:-1]
            n_pairs = 0
        else:
            n_pairs = affordable // 2
            inner = sample_paired_masks(m, n_pairs, rng)
        masks = np.vstack([np.zeros((1, m), dtype=bool), inner])
        rows = CoalitionRows(names, task.features, task.background, masks, lead=[dict(task.features)])
        scores = np.asarray(task.score(rows), dtype=float)
        if scores.shape != (len(rows),):
            raise ExplanationError(f"kernel: expected {len(rows)} scores, got shape {scores.shape}")
        output = float(scores[0])
        v = coalition_values(scores, 1, len(masks), b)
        base, delta = float(v[0]), output - float(v[0])
        z = inner.astype(float)
        y = v[1:] - base
        std: np.ndarray | None
        if m == 1:
            phi, std = np.array([delta]), np.zeros(1)
        elif enumerate_all:
            w = kernel_weights(inner.sum(axis=1).astype(float), m)
            phi, std = _solve(z, y, w / w.sum(), delta), np.zeros(m)
        else:
            phi = _solve(z, y, np.full(len(z), 1.0 / len(z)), delta)
            std = self._bootstrap(z, y, delta, n_pairs, rng)
        error = float(std.max()) if np.all(np.isfinite(std)) else None
        return build_explanation(
            task.model, task.features, names, phi, base, output,
            output_kind=task.output_kind, method=self.name, evaluations=len(rows),
            exact=bool(enumerate_all or m == 1), error_estimate=error,
            metadata={
                "background_rows": b,
                "coalitions": len(masks),
                "std_errors": {n: (float(s) if np.isfinite(s) else None) for n, s in zip(names, std, strict=True)},
            },
        )

    def _bootstrap(
        self, z: np.ndarray, y: np.ndarray, delta: float, n_pairs: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Standard error of each attribution: re-solve on pairs resampled with replacement."""
        if self.bootstrap < 2 or n_pairs < 2:
            return np.full(z.shape[1], np.inf)
        reps = np.empty((self.bootstrap, z.shape[1]))
        for r in range(self.bootstrap):
            counts = np.bincount(rng.integers(0, n_pairs, n_pairs), minlength=n_pairs).astype(float)
            w = np.concatenate([counts, counts])
            reps[r] = _solve(z, y, w / w.sum(), delta)
        return reps.std(axis=0, ddof=1)
