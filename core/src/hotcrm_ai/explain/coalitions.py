"""Feature rows for a set of coalitions: built lazily, and each distinct row only once.

For coalition ``S`` and background row ``b`` the row takes the explained value for the features in
``S`` and ``b``'s value for the others. Where ``b`` already holds the explained value of a feature
(same type, equal: common with categorical CRM fields), coalitions that differ only in such features
give the same row, so the rows are deduplicated structurally (coalition ``S`` and row ``b`` map to
``S | same(b)``) and each distinct row is scored once: fewer model evaluations, same numbers.

Layout: the ``lead`` rows first, then the distinct rows. ``values(scores)`` maps the scores back to
``v(S)`` = the mean over the background, for every mask in order. The service slices the rows in
chunks when it calls the provider, so they never all sit in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np

MAX_DEDUP_FEATURES = 40  # coalition codes plus the background index must fit in an int64


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # e.g. arrays: no single truth value; treat as different
        return False


def same_as_explained(
    names: Sequence[str], features: Mapping[str, Any], background: Sequence[Mapping[str, Any]]
) -> np.ndarray:
    """``B x M``: whether background row ``b`` already holds the explained value of feature ``i``."""
    return np.array([[_same(row[n], features[n]) for n in names] for row in background], dtype=bool).reshape(
        len(background), len(names)
    )


def distinct_rows_per_background(same: np.ndarray, include_full: bool) -> np.ndarray:
    """Distinct rows each background row yields over ALL coalitions (without the full one unless
    ``include_full``): ``2^(M - e_b)`` canonical coalitions, where ``e_b`` features already agree."""
    m = same.shape[1]
    e = same.sum(axis=1)
    counts = 2.0 ** (m - e)
    if not include_full:
        counts = np.where(e == 0, counts - 1, counts)  # with e_b > 0 some S != N maps onto N itself
    return counts


class CoalitionRows(Sequence[dict[str, Any]]):
    def __init__(
        self,
        names: Sequence[str],
        features: Mapping[str, Any],
        background: Sequence[Mapping[str, Any]],
        masks: np.ndarray,
        lead: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self._names = list(names)
        self._x = [(n, features[n]) for n in self._names]
        self._bg = [dict(r) for r in background]
        self._masks = np.asarray(masks, dtype=bool)
        self._lead = [dict(r) for r in lead]
        self._B = len(self._bg)
        self._cache: dict[int, dict[str, Any]] = {}
        k, m, b = len(self._masks), len(self._names), self._B
        if 0 < m <= MAX_DEDUP_FEATURES and k and b:
            weights = np.left_shift(np.int64(1), np.arange(m, dtype=np.int64))
            code = (self._masks * weights).sum(axis=1)
            same = (same_as_explained(self._names, features, self._bg) * weights).sum(axis=1)
            canon = (code[:, None] | same[None, :]) * b + np.arange(b, dtype=np.int64)[None, :]
            _, first, inverse = np.unique(canon.ravel(), return_index=True, return_inverse=True)
            self._rep_k, self._rep_b = np.divmod(first, b)
            self._inverse = inverse.ravel()
        else:
            flat = np.arange(k * b, dtype=np.int64)
            self._rep_k, self._rep_b = np.divmod(flat, b) if b else (flat, flat)
            self._inverse = flat

    @property
    def distinct(self) -> int:
        """Distinct coalition rows (what is scored, besides the lead rows)."""
        return len(self._rep_k)

    def __len__(self) -> int:
        return len(self._lead) + self.distinct

    def values(self, scores: np.ndarray) -> np.ndarray:
        """``v(S)`` for every mask, in mask order: the mean score over the background rows."""
        rows = np.asarray(scores, dtype=float)[len(self._lead) :]
        return rows[self._inverse].reshape(len(self._masks), self._B).mean(axis=1)

    def _from_x(self, k: int) -> dict[str, Any]:
        got = self._cache.get(k)
        if got is None:
            mask = self._masks[k]
            got = {n: v for (n, v), m in zip(self._x, mask, strict=True) if m}
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[k] = got
        return got

    def _row(self, j: int) -> dict[str, Any]:
        if j < len(self._lead):
            return dict(self._lead[j])
        i = j - len(self._lead)
        return {**self._bg[int(self._rep_b[i])], **self._from_x(int(self._rep_k[i]))}

    def _run(self, start: int, stop: int) -> list[dict[str, Any]]:
        """Rows ``start:stop``: the hot path of every chunk."""
        out = [dict(r) for r in self._lead[start:stop]]
        lo = max(start, len(self._lead)) - len(self._lead)
        hi = stop - len(self._lead)
        bg, from_x = self._bg, self._from_x
        ks, bs = self._rep_k[lo:hi].tolist(), self._rep_b[lo:hi].tolist()
        out.extend({**bg[b], **from_x(k)} for k, b in zip(ks, bs, strict=True))
        return out

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self._row(j) for j in range(start, stop, step)]
            return self._run(start, stop)
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        return self._row(index)
