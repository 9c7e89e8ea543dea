"""Feature rows for a set of coalitions, built lazily so a large coalition set never sits in memory.

Row layout: the ``lead`` rows first, then for each coalition mask ``k`` and background row ``b`` the
row taking the explained value for features in the coalition and the background value otherwise
(index ``len(lead) + k * B + b``). The service slices this in chunks when it calls the provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np


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

    def __len__(self) -> int:
        return len(self._lead) + len(self._masks) * self._B

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
        k, b = divmod(j - len(self._lead), self._B)
        row = dict(self._bg[b])
        row.update(self._from_x(k))
        return row

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._row(j) for j in range(*index.indices(len(self)))]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        return self._row(index)


def coalition_values(scores: np.ndarray, n_lead: int, n_masks: int, n_background: int) -> np.ndarray:
    """Mean score over the background for each coalition: ``v(S)`` for every mask, in mask order."""
    block = np.asarray(scores, dtype=float)[n_lead:]
    return block.reshape(n_masks, n_background).mean(axis=1)
