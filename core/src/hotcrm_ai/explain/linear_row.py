"""One row through a linear model's closed form at the speed of the model itself.

``CompiledLinear`` is built once per model and field list from a ``PreparedLinear``: the reference
term of every field, the base value and its probability, the labels and the metadata every row
shares, as plain Python numbers. A row then costs the model's own per-field terms (``row_terms``, a
few dictionary lookups and multiplications, no numpy call; or ``terms`` / the design matrix for a
model without it) and a short loop: ``phi_i = term_i(x) - E[term_i]``. The answer is a ``LinearRow``:
the numbers at once, the ``Explanation`` (contribution objects, importances, top five and the reason
text) only when asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from hotcrm_ai.errors import ExplanationError
from hotcrm_ai.explain.linear_batch import PreparedLinear, points_phrase
from hotcrm_ai.explain.result import contribution_records, list_importances, top_order
from hotcrm_ai.explain.text import reason_text
from hotcrm_ai.types import Explanation, FeatureContribution, ModelConfig

TOLERANCE = 1e-6  # additivity, relative to max(1, |output|, |base|), as for every linear explanation


def _sigmoid(z: float) -> float:
    return 0.5 * (1.0 + math.tanh(0.5 * z))  # no overflow for any finite z


class LinearRow:
    """One row's linear attributions in log-odds (``phi``) and, under a logit link, in probability
    points (``phi_probability``, adding up to ``probability - base_probability``). ``explanation()``
    builds the full ``Explanation`` (with the reason text) once, on first use."""

    __slots__ = (
        "_compiled",
        "_explanation",
        "base",
        "base_probability",
        "features",
        "output",
        "phi",
        "phi_probability",
        "probability",
    )

    def __init__(
        self,
        compiled: CompiledLinear,
        features: Mapping[str, Any],
        phi: list[float],
        base: float,
        output: float,
        probability: float | None,
        base_probability: float | None,
        phi_probability: list[float] | None,
    ) -> None:
        self._compiled = compiled
        self._explanation: Explanation | None = None
        self.features = features
        self.phi, self.base, self.output = phi, base, output
        self.probability, self.base_probability, self.phi_probability = probability, base_probability, phi_probability

    @property
    def names(self) -> tuple[str, ...]:
        return self._compiled.names

    @property
    def output_kind(self) -> str:
        return self._compiled.output_kind

    def contributions(self) -> dict[str, float]:
        """Field -> log-odds contribution."""
        return dict(zip(self._compiled.names, self.phi, strict=True))

    def explanation(self) -> Explanation:
        if self._explanation is None:
            self._explanation = self._compiled.explanation(self)
        return self._explanation

    @property
    def text(self) -> str:
        return self.explanation().text

    def __repr__(self) -> str:
        return f"LinearRow({self._compiled.model.id}, output={self.output!r}, base={self.base!r})"


class CompiledLinear:
    """A model's closed form for one list of fields, with everything a row shares precomputed."""

    def __init__(self, prepared: PreparedLinear, model: ModelConfig, served_kind: str = "log-odds") -> None:
        from hotcrm_ai.explain.linear import link_output_kind

        lin = prepared.lin
        self.prepared, self.model, self.names = prepared, model, prepared.names
        self.labels = prepared.labels
        self.logit = lin.link == "logit"
        self.output_kind = link_output_kind(lin.link, lin.output_kind, served_kind)
        self.intercept = float(lin.intercept)
        self._row_terms = lin.row_terms if prepared.term_of is not None else None
        if prepared.term_of is not None and prepared.term_ref is not None:
            self._term_of: list[int] = [int(k) for k in prepared.term_of]
            self._ref: list[float] = [float(v) for v in prepared.term_ref]
            self._outside: list[int] = [
                int(k) for k in (prepared.term_outside if prepared.term_outside is not None else ())
            ]
            self._base0 = float(self.intercept + prepared.term_ref.sum())
        else:
            self._base0 = float(prepared.base)
        self._p0 = _sigmoid(self._base0)
        unexplained = sorted(set(lin.groups) - set(self.names))
        self._metadata: dict[str, Any] = {
            "link": lin.link,
            "unexplained_fields": unexplained,
            "explained_field": model.explain_output,
            "background_source": "model" if model.background else "training means",
            "background_rows": len(model.background),
            "provider_calls": 0,
        }

    def row(self, features: Mapping[str, Any]) -> LinearRow:
        """Explain one row whose keys are ``names`` and whose values the host has validated."""
        if self._row_terms is not None:
            try:
                t = self._row_terms(features)
                ref = self._ref
                phi = [t[k] - ref[k] if k >= 0 else 0.0 for k in self._term_of]
                output = self.intercept + math.fsum(t)
                base = self._base0
                if self._outside:
                    base += math.fsum(t[k] - ref[k] for k in self._outside)
            except (KeyError, TypeError, ValueError, IndexError) as exc:  # fsum refuses inf - inf
                raise ExplanationError(
                    f"linear: could not encode the features of model {self.model.id}: {exc}"
                ) from None
        else:
            batch = self.prepared.explain_rows([features], self.model, self.output_kind)
            phi, base, output = batch.phi[0].tolist(), float(batch.base[0]), float(batch.output[0])
        if not (math.isfinite(output) and math.isfinite(base)):
            raise ExplanationError(f"linear: model {self.model.id}: non-finite terms for this row")
        if not self.logit:
            return LinearRow(self, features, phi, base, output, None, None, None)
        p = _sigmoid(output)
        p0 = self._p0 if base == self._base0 else _sigmoid(base)
        gap = output - base
        slope = p * (1.0 - p) if abs(gap) < 1e-12 else (p - p0) / gap
        return LinearRow(self, features, phi, base, output, p, p0, [v * slope for v in phi])

    def explanation(self, row: LinearRow) -> Explanation:
        """The full ``Explanation`` of ``row`` (what ``build_explanation`` makes, from plain floats, with
        the probability points phrased only for the five lines the text shows). Additivity is checked
        now; the contribution records, top five, reason text and metadata are built on first read."""
        gap = abs(row.base + math.fsum(row.phi) - row.output)
        if not gap <= TOLERANCE * max(1.0, abs(row.output), abs(row.base)):
            raise ExplanationError(
                f"model {self.model.id}: linear attributions do not add up: base {row.base!r} + "
                f"sum {math.fsum(row.phi)!r} != output {row.output!r}"
            )
        return Explanation.deferred(
            row.base, row.output, self.output_kind, _Parts(self, row, gap), method="linear", evaluations=0
        )

    def metadata(self, row: LinearRow, gap: float) -> dict[str, Any]:
        """What every linear explanation says about itself, and ``row``'s probability points."""
        meta = {**self._metadata, "additivity_gap": gap}
        points = row.phi_probability
        if points is None:
            meta["model_output"] = row.output
            return meta
        meta["model_output"] = row.probability
        meta["probability"] = {
            "base": row.base_probability,
            "output": row.probability,
            "contributions": dict(zip(self.names, points, strict=True)),
            "text_uses": "probability points",
        }
        return meta


class _Parts:
    """The derived fields of one row's ``Explanation``, each built when first read: the reason text
    needs only the five records it shows (and phrases only their probability points), the records of
    all fields are built if ``contributions`` is read."""

    __slots__ = ("compiled", "gap", "imp", "order", "records", "row")

    def __init__(self, compiled: CompiledLinear, row: LinearRow, gap: float) -> None:
        self.compiled, self.row, self.gap = compiled, row, gap
        self.imp: list[float] | None = None
        self.order: list[int] = []
        self.records: tuple[FeatureContribution, ...] | None = None

    def __call__(self, name: str) -> Any:
        compiled, row = self.compiled, self.row
        if name == "metadata":
            return compiled.metadata(row, self.gap)
        imp = self.imp
        if imp is None:
            imp = list_importances(row.phi)
            self.order, self.imp = top_order(imp), imp
        names, order = compiled.names, self.order
        if name == "contributions":
            self.records = contribution_records(names, row.features, row.phi, imp, compiled.labels)
            return self.records
        records = self.records
        if records is not None:
            top = tuple([records[k] for k in order])
        else:
            pick = [names[k] for k in order]
            phi, labels = row.phi, compiled.labels
            top = contribution_records(
                pick, row.features, [phi[k] for k in order], [imp[k] for k in order], [labels[k] for k in order]
            )
        if name == "top_features":
            return top
        points = row.phi_probability
        effects = None if points is None else {names[k]: points_phrase(100.0 * points[k]) for k in order}
        return reason_text(top, effects)


class RowExplainer:
    """``AICloud.linear_explainer(model_id)``: one linear model's rows explained at the model's own
    speed. Each call validates the row once (the model's feature specs), computes its terms and
    returns a ``LinearRow``, whose ``Explanation`` and reason text are built only if read. Follows
    the registry: a new version of the model is compiled on its first row."""

    def __init__(
        self,
        model_id: str,
        resolve: Callable[[str], ModelConfig],
        compile: Callable[[ModelConfig, tuple[str, ...]], CompiledLinear | None],
        count: Callable[[str], None],
    ) -> None:
        self.model_id = model_id
        self._resolve, self._compile, self._count = resolve, compile, count
        self._model: ModelConfig | None = None
        self._compiled: dict[tuple[str, ...], CompiledLinear] = {}

    def __call__(self, features: Mapping[str, Any]) -> LinearRow:
        from hotcrm_ai.prediction.validation import validate_features

        model = self._resolve(self.model_id)
        if model is not self._model:
            self._model, self._compiled = model, {}
        clean = validate_features(model, features)
        fields = tuple(clean)
        compiled = self._compiled.get(fields)
        if compiled is None:
            compiled = self._compile(model, fields)
            if compiled is None:
                raise ExplanationError(
                    f"model {model.id}: its provider gives no logit-link coefficients; "
                    "use explain (sampling methods) instead of linear_explainer"
                )
            if len(self._compiled) >= 64:
                self._compiled.clear()
            self._compiled[fields] = compiled
        row = compiled.row(clean)
        self._count(model.id)
        return row

    def __repr__(self) -> str:
        return f"RowExplainer({self.model_id!r})"
