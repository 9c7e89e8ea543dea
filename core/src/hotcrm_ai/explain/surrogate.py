"""A surrogate game for Kernel SHAP whose Shapley values are known exactly (a control variate).

Only the odd part of a game, ``o(S) = (v(S) - v(N \\ S)) / 2``, carries its Shapley values (a game
and its dual have the same values), and in the +-1 coding ``s_i = 1 if i in S else -1`` an odd game
is a sum of odd-degree monomials ``prod_{i in T} s_i``, each worth ``2 / |T|`` to every ``i`` in ``T``.
An interaction of order ``d`` in the model's game has an odd part of degree ``d`` or ``d - 1``, so the
odd part of any game with interactions of order <= 4 (products of up to four fields, tree ensembles of
depth <= 4) is a polynomial of degree <= 3. Paired Kernel SHAP fits degree 1 only, which is why it
is exact up to order 2 and no further.

``OddCubic`` interpolates the odd part with the minimum-norm polynomial of degree 1 and 3, through
its kernel (the monomials are never built: their Gram matrix depends only on how many players two
coalitions agree on), at anchor coalitions: all of sizes 1 and 2 and the full coalition. The Shapley
values of such polynomials are linear in their values at those anchors, so on games of order <= 4 the
surrogate's Shapley values are the game's exactly; on others it is a cheap approximation whose error
the sampled coalitions correct (``kernel.py`` uses it as a control variate).
"""

from __future__ import annotations

import math

import numpy as np


def _spins(masks: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(masks, dtype=bool), 1.0, -1.0)


def _e2(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Second elementary symmetric polynomial of p ones and q minus ones."""
    return p * (p - 1) / 2 + q * (q - 1) / 2 - p * q


def _kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum_T chi_T(a) chi_T(b)`` over the monomials of degree 1 and 3 (+-1 spins, rows of a and b):
    a function of how many players the two coalitions put on the same side, read from a table."""
    m = a.shape[1]
    p = np.arange(m + 1, dtype=float)  # the elementwise product of the spins has p ones, q minus ones
    q = m - p
    e3 = (p * (p - 1) * (p - 2) - 3 * p * (p - 1) * q + 3 * p * q * (q - 1) - q * (q - 1) * (q - 2)) / 6
    table = (p - q) + e3
    agree = np.rint((m + a @ b.T) / 2).astype(np.int64)  # small integers: the product is exact
    return table[agree]


def anchor_masks(m: int) -> np.ndarray:
    """The anchor coalitions: every coalition of size 1 and 2 (their complements are implied)."""
    ones = np.eye(m, dtype=bool)
    i, j = np.triu_indices(m, k=1)
    twos = np.zeros((len(i), m), dtype=bool)
    twos[np.arange(len(i)), i] = True
    twos[np.arange(len(i)), j] = True
    return np.vstack([ones, twos])


def anchor_count(m: int) -> int:
    return m + math.comb(m, 2)


class OddCubic:
    """Minimum-norm odd polynomial of degree 1 and 3 through ``o`` at ``masks`` (and ``o(N) = half``)."""

    def __init__(self, masks: np.ndarray, odd_values: np.ndarray, half_delta: float) -> None:
        m = masks.shape[1]
        self._s = np.vstack([_spins(masks), np.ones((1, m))])
        target = np.append(np.asarray(odd_values, dtype=float), half_delta)
        gram = _kernel(self._s, self._s)
        # a relative jitter of 1e-12 keeps the (positive semidefinite, often singular) Gram matrix
        # factorisable at a Cholesky-like cost; lstsq's SVD was 10-30x slower for 1,000 anchors
        gram[np.diag_indices_from(gram)] += 1e-12 * float(np.trace(gram)) / len(gram)
        try:
            self._alpha = np.linalg.solve(gram, target)
        except np.linalg.LinAlgError:
            self._alpha = np.linalg.lstsq(gram, target, rcond=None)[0]

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        """Surrogate odd part at the given coalitions."""
        return np.einsum("kl,l->k", _kernel(_spins(masks), self._s), self._alpha)

    def shapley(self) -> np.ndarray:
        """Exact Shapley values: ``phi_i = 2 beta_i + (2/3) sum_{T containing i, |T| = 3} gamma_T``."""
        s = self._s
        plus = (s > 0).sum(axis=1, keepdims=True).astype(float)
        p = plus - (s > 0)  # the other players' spins, without i
        q = (s.shape[1] - 1) - p
        return np.einsum("l,li->i", self._alpha, s * (2.0 + (2.0 / 3.0) * _e2(p, q)))
