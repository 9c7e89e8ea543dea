"""Kernel SHAP: paired, stratified sampling without replacement, and an order-4-exact control variate.

The Shapley kernel gives all coalitions of size ``s`` a total weight proportional to ``1/(s(M-s))``,
so each pair stratum (sizes ``k`` and ``M-k``, a coalition together with its complement) has a weight
known exactly. Strata are enumerated from the outside in (sizes 1 and ``M-1``, then 2 and ``M-2``, ...)
while a share of the pairs in proportion to its weight would cover it (shap's KernelExplainer
enumerates while the budget holds the stratum, which can leave a handful of draws to carry the
inner strata); sizes 1 and 2 also when they take at most half the pairs. The remaining pairs are shared
among the inner strata in proportion to their weight and drawn uniformly WITHOUT replacement in each,
each weighted by its stratum's weight over the number drawn. Paired sampling makes the estimate exact
for games with interactions of order <= 2 (Covert & Lee 2021).

On top of that, when sizes 1 and 2 are enumerated, a surrogate game with exactly known Shapley values
(``surrogate.OddCubic``: exact for games with interactions of order <= 4) is used as a control variate
(regression-adjusted Monte Carlo, Witter et al. 2025): ``phi = L(v) + c (phi(g) - L(g))``, where ``L``
is the sampled estimate, applied to the game and to the surrogate on the same coalitions. ``c`` is the
variance-minimising coefficient, estimated from the bootstrap and clipped to ``[0, 1]``: 1 when the
surrogate explains the game (the estimate is then exact on order-4 games), near 0 when it does not
(the plain sampled estimate).

Every estimate solves a weighted least-squares problem under ``sum(phi) = f(x) - E[f]`` by its KKT
equations (both ``L(v)`` and ``L(g)`` satisfy it and ``phi(g) - L(g)`` sums to zero), so additivity
holds to rounding whatever the sample. When the budget covers every coalition, they are all enumerated
with their exact kernel weights and the result is the exact Shapley value (``exact=True``).

The error estimate is the bootstrap standard error of the final estimate (sampled strata resampled
within each stratum, enumerated ones fixed; no extra model evaluations): ``error_estimate`` is the
largest over features, ``metadata["std_errors"]`` has them all.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from hotcrm_ai.errors import ExplanationError
from hotcrm_ai.explain.coalitions import CoalitionRows
from hotcrm_ai.explain.exact import all_masks
from hotcrm_ai.explain.result import build_explanation
from hotcrm_ai.explain.surrogate import OddCubic, anchor_count, anchor_masks
from hotcrm_ai.interfaces import ExplanationTask
from hotcrm_ai.types import Explanation

SURROGATE_MAX_FIT = 1500  # points a surrogate is fitted to: a dense solve of this size per fold
SURROGATE_MAX_FEATURES = 60  # anchors: M + M(M-1)/2 coalitions; their Gram matrix is solved densely


def _solve(z: np.ndarray, y: np.ndarray, w: np.ndarray, delta: float | np.ndarray) -> np.ndarray:
    """argmin sum w (y - z.phi)^2 subject to sum(phi) = delta (``y`` may hold several columns)."""
    # einsum, not ``z.T @ ...``: tall-skinny BLAS products spawn OpenBLAS threads that cost 10-30x
    # more than the arithmetic on a busy machine (measured: 290 ms vs 11 ms for 4,000 x 20).
    zw = z * w[:, None]
    a = np.einsum("ki,kj->ij", zw, z)
    b = np.einsum("ki,k...->i...", zw, y)
    ones = np.ones(z.shape[1])
    try:
        a_inv_b = np.linalg.solve(a, b)
        a_inv_1 = np.linalg.solve(a, ones)
    except np.linalg.LinAlgError:
        pinv = np.linalg.pinv(a)
        a_inv_b, a_inv_1 = pinv @ b, pinv @ ones
    if a_inv_b.ndim == 1:
        return a_inv_b - a_inv_1 * (a_inv_b.sum() - delta) / a_inv_1.sum()
    d = np.broadcast_to(np.asarray(delta, dtype=float), (a_inv_b.shape[1],))
    return a_inv_b - np.outer(a_inv_1, (a_inv_b.sum(axis=0) - d) / a_inv_1.sum())


def kernel_weights(sizes: np.ndarray, m: int) -> np.ndarray:
    """Shapley kernel weight of coalitions of the given sizes (0 < s < m)."""
    comb = np.array([math.comb(m, int(s)) for s in sizes], dtype=float)
    return (m - 1) / (comb * sizes * (m - sizes))


def pair_strata(m: int) -> list[tuple[int, int, float]]:
    """``(k, pairs, weight)`` for ``k = 1 .. M//2``: the pairs (coalition of size ``k``, complement)
    and their total kernel weight (sizes ``k`` and ``M-k``; one size when ``2k = M``)."""
    out = []
    for k in range(1, m // 2 + 1):
        size_weight = 1.0 / (k * (m - k))
        if 2 * k == m:
            out.append((k, math.comb(m, k) // 2, size_weight))
        else:
            out.append((k, math.comb(m, k), 2 * size_weight))
    return out


def _stratum_all(m: int, k: int) -> np.ndarray:
    """Every pair of stratum ``k`` by its half of size ``k`` (holding player 0 when ``2k = M``)."""
    combos = np.array(list(itertools.combinations(range(m), k)), dtype=np.int64).reshape(-1, k)
    if 2 * k == m:
        combos = combos[combos[:, 0] == 0]
    halves = np.zeros((len(combos), m), dtype=bool)
    halves[np.arange(len(combos))[:, None], combos] = True
    return halves


def _stratum_sample(m: int, k: int, total: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct pairs of stratum ``k``, uniformly without replacement."""
    if 2 * n >= total:  # dense: choose among all of them
        every = _stratum_all(m, k)
        return every[np.sort(rng.choice(len(every), size=n, replace=False))]
    seen: set[bytes] = set()
    kept: list[np.ndarray] = []
    while len(kept) < n:
        r = rng.random((2 * (n - len(kept)) + 16, m))
        idx = np.argsort(r, axis=1)[:, :k]
        halves = np.zeros(r.shape, dtype=bool)
        halves[np.arange(len(r))[:, None], idx] = True
        if 2 * k == m:
            halves = np.where(halves[:, :1], halves, ~halves)
        for row, key in zip(halves, np.packbits(halves, axis=1), strict=True):
            kb = key.tobytes()
            if kb not in seen and len(kept) < n:
                seen.add(kb)
                kept.append(row)
    return np.array(kept, dtype=bool)


def plan_pairs(m: int, n_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n_pairs`` distinct pairs: whole strata from the outside in while they fit, the rest shared by
    weight among the inner strata and drawn without replacement. Returns (one half per pair, the
    weight of each coalition of the pair, the stratum id of each pair or -1 when enumerated)."""
    strata = pair_strata(m)
    halves: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    left, first = n_pairs, 0
    while first < len(strata) and strata[first][1] <= left:
        k, total, weight = strata[first]
        part = weight / sum(w for _, _, w in strata[first:])
        # whole when a proportional share would cover it; sizes 1 and 2 (the surrogate's anchors)
        # also when they take at most half of the pairs
        if total > left * part and not (k <= 2 and n_pairs - left + total <= n_pairs / 2):
            break
        halves.append(_stratum_all(m, k))
        weights.append(np.full(total, weight / (2 * total)))
        ids.append(np.full(total, -1))
        left -= total
        first += 1
    rest = strata[first:]
    if rest and left > 0:
        cap = np.array([t for _, t, _ in rest], dtype=float)
        share = np.array([w for _, _, w in rest])
        alloc = np.zeros(len(rest), dtype=np.int64)
        while left - alloc.sum() > 0:  # proportional to weight, capped at each stratum's size
            open_ = alloc < cap
            ideal = (left - alloc.sum()) * share * open_ / (share * open_).sum()
            add = np.minimum(np.floor(ideal).astype(np.int64), (cap - alloc).astype(np.int64))
            if add.sum() == 0:
                add[int(np.argmax(np.where(open_, ideal, -1.0)))] = 1
            alloc += add
        for sid, ((k, total, weight), n) in enumerate(zip(rest, alloc, strict=True)):
            if n == 0:
                continue
            halves.append(_stratum_sample(m, k, total, int(n), rng))
            weights.append(np.full(int(n), weight / (2 * n)))
            ids.append(np.full(int(n), sid if n < total else -1))
    return (
        np.vstack(halves) if halves else np.zeros((0, m), dtype=bool),
        np.concatenate(weights) if weights else np.zeros(0),
        np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64),
    )


class KernelExplainer:
    name = "kernel"

    def __init__(
        self, bootstrap: int = 32, min_pairs_per_feature: int = 1, surrogate: bool = True, folds: int = 5
    ) -> None:
        self.bootstrap = bootstrap
        self.folds = folds
        self.min_pairs_per_feature = min_pairs_per_feature
        self.surrogate = surrogate

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
        weights = ids = np.zeros(0)
        half = np.zeros((0, m), dtype=bool)
        if enumerate_all:
            inner = all_masks(m)[1:-1]
        else:
            half, weights, ids = plan_pairs(m, affordable // 2, rng)
            inner = np.vstack([half, ~half])
        masks = np.vstack([np.zeros((1, m), dtype=bool), inner])
        rows = CoalitionRows(names, task.features, task.background, masks, lead=[dict(task.features)])
        scores = np.asarray(task.score(rows), dtype=float)
        if scores.shape != (len(rows),):
            raise ExplanationError(f"kernel: expected {len(rows)} scores, got shape {scores.shape}")
        output = float(scores[0])
        v = rows.values(scores)
        base, delta = float(v[0]), output - float(v[0])
        z = inner.astype(float)
        y = v[1:] - base
        std: np.ndarray | None
        control = None
        if m == 1:
            phi, std = np.array([delta]), np.zeros(1)
        elif enumerate_all:
            w = kernel_weights(inner.sum(axis=1).astype(float), m)
            phi, std = _solve(z, y, w / w.sum(), delta), np.zeros(m)
        else:
            phi, std, control = self._estimate(half, z, y, delta, weights, ids, rng)
        error = float(std.max()) if np.all(np.isfinite(std)) else None
        metadata: dict[str, object] = {
            "background_rows": b,
            "coalitions": len(masks),
            "sampled_pairs": int((ids >= 0).sum()),
            "std_errors": {n: (float(s) if np.isfinite(s) else None) for n, s in zip(names, std, strict=True)},
        }
        if control is not None:
            metadata["control_variate"] = control
        return build_explanation(
            task.model,
            task.features,
            names,
            phi,
            base,
            output,
            output_kind=task.output_kind,
            method=self.name,
            evaluations=len(rows),
            exact=bool(enumerate_all or m == 1),
            error_estimate=error,
            metadata=metadata,
        )

    def _estimate(
        self,
        half: np.ndarray,
        z: np.ndarray,
        y: np.ndarray,
        delta: float,
        weights: np.ndarray,
        ids: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, float | None]:
        """The sampled estimate, combined with the cross-fitted surrogate estimate when the anchors
        were scored. Returns (phi, standard errors, weight of the surrogate estimate or None)."""
        m, n = half.shape[1], len(half)
        w = np.concatenate([weights, weights])
        n_anchor = anchor_count(m)
        sampled = np.flatnonzero(ids >= 0)
        use = (
            self.surrogate
            and 4 <= m <= SURROGATE_MAX_FEATURES
            and n >= n_anchor
            and len(sampled) >= 2 * self.folds
            and np.array_equal(half[:n_anchor], anchor_masks(m))
        )
        if not use:
            reps = self._bootstrap(z, y[:, None], np.array([delta]), weights, ids, rng)
            est = _solve(z, y, w / w.sum(), delta)
            std = reps[:, :, 0].std(axis=0, ddof=1) if reps is not None else np.full(m, np.inf)
            return est, std, None
        # cross-fitting: each sampled pair's residual comes from a surrogate fitted without it, so the
        # sampled estimate of the residual's Shapley values stays unbiased
        odd = (y[:n] - y[n:]) / 2  # o(S) = (v(S) - v(N \ S)) / 2, the base cancels
        sampled = sampled[rng.permutation(len(sampled))]  # random order: a capped fit spans the strata
        fold = np.arange(len(sampled)) % self.folds
        cap = max(n_anchor, min(SURROGATE_MAX_FIT, 2 * (m + math.comb(m, 3))))
        resid = np.zeros(n)
        phi_g = np.zeros(m)
        resid_full = 0.0  # o(N) - g(N): zero unless the interpolation is inexact (singular Gram)
        for f in range(self.folds):
            # beyond twice the number of monomials (M + C(M, 3)) more points add cost, not accuracy
            fit = np.concatenate([np.arange(n_anchor), sampled[fold != f]])[:cap]
            g = OddCubic(half[fit], odd[fit], delta / 2)
            g_phi = g.shapley()
            phi_g += g_phi / self.folds
            # g(N) = sum(phi(g)) / 2 by efficiency; taken from the sum so that rounding in an
            # ill-conditioned fit cannot break additivity
            resid_full += (delta - float(g_phi.sum())) / 2 / self.folds
            held = sampled[fold == f]
            resid[held] = odd[held] - g(half[held])
        # the residual as a game: odd, so r(empty) = -r(N); phi(g) sums to delta - 2 r(N)
        ys = np.column_stack([y, np.concatenate([resid, -resid]) + resid_full])
        deltas = np.array([delta, 2 * resid_full])
        est = _solve(z, ys, w / w.sum(), deltas)
        plain, adjusted = est[:, 0], phi_g + est[:, 1]
        reps = self._bootstrap(z, ys, deltas, weights, ids, rng)
        if reps is None:  # no usable variance: the surrogate's weight cannot be chosen
            return plain, np.full(m, np.inf), 0.0
        a, bb = reps[:, :, 0], phi_g[None, :] + reps[:, :, 1]
        d = a - bb
        a_c, d_c = a - a.mean(axis=0), d - d.mean(axis=0)
        var_d = float((d_c**2).sum())
        # weight of the adjusted estimate minimising the summed bootstrap variance of the combination
        c = float(np.clip((a_c * d_c).sum() / var_d, 0.0, 1.0)) if var_d > 0 else 1.0
        std = ((1 - c) * a + c * bb).std(axis=0, ddof=1)
        return (1 - c) * plain + c * adjusted, std, c

    def _bootstrap(
        self,
        z: np.ndarray,
        ys: np.ndarray,
        deltas: np.ndarray,
        weights: np.ndarray,
        ids: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray | None:
        """Bootstrap replicates ``(reps, M, columns)``: every sampled stratum resampled with replacement
        within itself (its weight kept), enumerated strata fixed; no model evaluations."""
        sampled = [np.flatnonzero(ids == s) for s in np.unique(ids[ids >= 0])]
        sampled = [s for s in sampled if len(s) >= 2]
        if self.bootstrap < 2 or not sampled:
            return None
        out = np.empty((self.bootstrap, z.shape[1], ys.shape[1]))
        for r in range(self.bootstrap):
            wr = weights.copy()
            for members in sampled:
                counts = rng.multinomial(len(members), np.full(len(members), 1.0 / len(members)))
                wr[members] = weights[members] * counts
            w = np.concatenate([wr, wr])
            zw = z * (w / w.sum())[:, None]
            if np.linalg.cond(np.einsum("ki,kj->ij", zw, z)) > 1e10:
                # a resample that leaves some field always in or always out: the sample cannot pin
                # the attributions down, so no standard error is reported rather than an absurd one
                return None
            out[r] = _solve(z, ys, w / w.sum(), deltas)
        return out
