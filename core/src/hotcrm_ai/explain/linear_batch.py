"""The linear closed form for many rows at once, with probability-scale contributions.

``PreparedLinear`` holds what every row shares (coefficients, the reference mean, the column-to-field
map as a matrix), built once per model and kept by the service, so explaining a row costs its
encoding and a few vector operations. ``explain_rows`` explains a whole table in one pass:
``phi = ((X - E[x]) * beta) @ G``.

Under a logit link the Shapley values live on the log-odds scale. Their probability-scale
counterparts are the log-odds contributions scaled by ``(p - p0) / (eta - eta0)``, the slope of the
sigmoid's secant between the base and the row: same signs and ranking, and they add up exactly to
``p - p0`` (this is not the Shapley value of the probability, which is not linear; it is the
log-odds attribution read in probability points). The reason text uses these points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from hotcrm_ai.errors import ExplanationError, ValidationError
from hotcrm_ai.explain.linear import link_output_kind
from hotcrm_ai.explain.result import label_of
from hotcrm_ai.interfaces import LinearModel
from hotcrm_ai.types import ModelConfig


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@attrs.frozen
class BatchExplanation:
    """Linear explanations of ``n`` rows, column by column: ``base + phi.sum(axis=1) == output``."""

    model_id: str
    names: tuple[str, ...]
    base: np.ndarray  # (n,)
    phi: np.ndarray  # (n, fields)
    output: np.ndarray  # (n,)
    output_kind: str
    probability: np.ndarray | None = None  # (n,) under a logit link
    base_probability: np.ndarray | None = None
    phi_probability: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.output)


@attrs.frozen
class PreparedLinear:
    lin: LinearModel
    names: tuple[str, ...]
    coef: np.ndarray
    mean: np.ndarray
    to_field: np.ndarray  # (columns, fields) 0/1
    outside: np.ndarray  # columns of fields not among ``names`` (folded into the base)
    base: float
    # the fast path through ``lin.terms``: per-field terms of each name (-1: none), their reference values
    term_of: np.ndarray | None = None
    term_ref: np.ndarray | None = None
    term_outside: np.ndarray | None = None
    labels: tuple[str, ...] = ()

    @classmethod
    def build(cls, lin: LinearModel, names: Sequence[str], model: ModelConfig) -> PreparedLinear:
        coef = np.asarray(lin.coef, dtype=float).ravel()
        mean = np.asarray(lin.mean, dtype=float).ravel()
        if mean.size != coef.size or len(lin.groups) != coef.size:
            raise ExplanationError(
                f"linear: model {model.id}: {coef.size} coefficients, {mean.size} means and {len(lin.groups)} "
                "groups do not line up"
            )
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(mean))):
            raise ExplanationError(f"linear: model {model.id}: non-finite coefficient or mean")
        index = {n: i for i, n in enumerate(names)}
        to_field = np.zeros((coef.size, len(names)))
        outside = []
        for col, group in enumerate(lin.groups):
            if group in index:
                to_field[col, index[group]] = 1.0
            else:
                outside.append(col)
        term_of = term_ref = term_outside = None
        if lin.terms is not None and lin.term_fields:
            fields = list(lin.term_fields)
            by_field = np.zeros((coef.size, len(fields)))
            where = {f: k for k, f in enumerate(fields)}
            for col, group in enumerate(lin.groups):
                if group in where:
                    by_field[col, where[group]] = 1.0
            term_ref = (coef * mean) @ by_field
            term_of = np.array([where.get(n, -1) for n in names], dtype=np.intp)
            term_outside = np.array([k for k, f in enumerate(fields) if f not in index], dtype=np.intp)
        return cls(
            lin,
            tuple(names),
            coef,
            mean,
            to_field,
            np.array(outside, dtype=np.intp),
            float(lin.intercept + coef @ mean),
            term_of,
            term_ref,
            term_outside,
            tuple(label_of(model, n) for n in names),
        )

    def encode(self, rows: Sequence[Mapping[str, Any]], model: ModelConfig) -> np.ndarray:
        try:
            x = np.asarray(self.lin.encode(rows), dtype=float)
        except (KeyError, TypeError, ValueError) as exc:
            raise ExplanationError(f"linear: could not encode the features of model {model.id}: {exc}") from None
        if x.shape != (len(rows), self.coef.size) or not np.all(np.isfinite(x)):
            raise ExplanationError(
                f"linear: model {model.id}: encoded rows {x.shape} and {self.coef.size} "
                "coefficients do not line up (or an encoded value is not finite)"
            )
        return x

    def _terms(
        self,
        rows: Sequence[Mapping[str, Any]] | None,
        model: ModelConfig,
        columns: tuple[Mapping[str, Any], int] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """phi, base, output through the model's per-field terms (no design matrix), of ``rows`` or
        of ``columns`` (columns by field, row count) through ``lin.column_terms``."""
        assert self.term_of is not None and self.term_ref is not None
        try:
            if columns is not None:
                assert self.lin.column_terms is not None
                n = columns[1]
                t = np.asarray(self.lin.column_terms(*columns), dtype=float)
            else:
                assert self.lin.terms is not None and rows is not None
                n = len(rows)
                t = np.asarray(self.lin.terms(rows), dtype=float)
        except ValidationError:  # the model's own checks, naming each bad row and field: bad input
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ExplanationError(f"linear: could not encode the features of model {model.id}: {exc}") from None
        if t.shape != (n, len(self.term_ref)) or not np.all(np.isfinite(t)):
            raise ExplanationError(f"linear: model {model.id}: field terms have shape {t.shape} or non-finite values")
        d = t - self.term_ref
        if (self.term_of >= 0).all():  # every field has its own term (the usual case): one gather
            phi = d[:, self.term_of]
        else:
            phi = np.where(self.term_of >= 0, d[:, np.maximum(self.term_of, 0)], 0.0)
        base = np.full(n, float(self.lin.intercept + self.term_ref.sum()))
        if self.term_outside is not None and self.term_outside.size:
            base = base + d[:, self.term_outside].sum(axis=1)
        return phi, base, self.lin.intercept + t.sum(axis=1)

    @property
    def reads_columns(self) -> bool:
        """Whether the model computes its field terms from columns (``lin.column_terms``): then a
        table is cheaper to explain as columns than as one dictionary per row."""
        return self.term_of is not None and self.lin.column_terms is not None

    def explain_columns(
        self, columns: Mapping[str, Any], n: int, model: ModelConfig, served_kind: str
    ) -> BatchExplanation:
        """``explain_rows`` of a table given column by column (``names`` are its columns)."""
        if not self.reads_columns:
            lists = [c.tolist() if isinstance(c, np.ndarray) else list(c) for c in (columns[k] for k in self.names)]
            rows = [dict(zip(self.names, values, strict=True)) for values in zip(*lists, strict=True)]
            return self.explain_rows(rows, model, served_kind)
        return self._finish(*self._terms(None, model, (columns, n)), model, served_kind)

    def explain_rows(self, rows: Sequence[Mapping[str, Any]], model: ModelConfig, served_kind: str) -> BatchExplanation:
        if self.term_of is not None:
            phi, base, output = self._terms(rows, model)
        else:
            x = self.encode(rows, model)
            per_column = (x - self.mean) * self.coef
            phi = per_column @ self.to_field
            base = np.full(len(rows), self.base)
            if self.outside.size:
                base = base + per_column[:, self.outside].sum(axis=1)
            output = self.lin.intercept + x @ self.coef
        return self._finish(phi, base, output, model, served_kind)

    def _finish(
        self, phi: np.ndarray, base: np.ndarray, output: np.ndarray, model: ModelConfig, served_kind: str
    ) -> BatchExplanation:
        kind = link_output_kind(self.lin.link, self.lin.output_kind, served_kind)
        if self.lin.link != "logit":
            return BatchExplanation(model.id, self.names, base, phi, output, kind)
        p, p0 = _sigmoid(output), _sigmoid(base)
        gap = output - base
        tiny = np.abs(gap) < 1e-12
        slope = np.where(tiny, p * (1 - p), (p - p0) / np.where(tiny, 1.0, gap))
        return BatchExplanation(model.id, self.names, base, phi, output, kind, p, p0, phi * slope[:, None])


def points_phrase(points: float) -> str:
    """``raises the probability by 12 points`` (percentage points, whole, rounded half away from zero)."""
    verb = "raises" if points > 0 else "lowers"
    size = abs(points)
    whole = int(size + 0.5)
    if whole == 0:
        return f"{verb} the probability by less than 1 point"
    return f"{verb} the probability by {whole} point{'s' if whole != 1 else ''}"
