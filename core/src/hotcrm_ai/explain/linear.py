"""Closed-form Shapley values of a (generalised) linear model, in link space.

For ``eta = intercept + beta . x`` with independent features, ``phi_i = sum_{j in field i}
beta_j (x_j - E[x_j])`` (one-hot columns of one field summed back into it), ``base = intercept +
beta . E[x]``. For a logit link the explained number is therefore the log-odds, not the
probability (Shapley values of the probability are not linear): ``output_kind`` says so.
Costs no model evaluations: the coefficients come from ``provider.linear_model``.
"""

from __future__ import annotations

import numpy as np

from hotcrm_ai.errors import ExplanationError
from hotcrm_ai.explain.result import build_explanation
from hotcrm_ai.interfaces import ExplanationTask
from hotcrm_ai.types import Explanation


def link_output_kind(link: str, declared: str, served: str) -> str:
    """What the linear predictor is: log-odds under a logit link whatever else was declared (a
    ``LinearModel`` may carry the kind of the *served* output); under identity it is the served number."""
    if link == "logit":
        return "log-odds"
    if link == "identity":
        return served if declared == "log-odds" else declared
    return declared


class LinearExplainer:
    name = "linear"

    def supports(self, task: ExplanationTask) -> bool:
        return task.linear is not None and len(task.features) >= 1

    def explain(self, task: ExplanationTask) -> Explanation:
        lin = task.linear
        if lin is None:
            raise ExplanationError(f"linear: model {task.model.id} exposes no coefficients (provider.linear_model)")
        names = list(task.features)
        try:
            x = np.asarray(lin.encode([dict(task.features)]), dtype=float)
        except (KeyError, TypeError, ValueError) as exc:
            raise ExplanationError(f"linear: could not encode the features of model {task.model.id}: {exc}") from None
        coef = np.asarray(lin.coef, dtype=float).ravel()
        mean = np.asarray(lin.mean, dtype=float).ravel()
        if x.shape != (1, coef.size) or mean.size != coef.size or len(lin.groups) != coef.size:
            raise ExplanationError(
                f"linear: model {task.model.id}: encoded row {x.shape}, {coef.size} coefficients, "
                f"{mean.size} means and {len(lin.groups)} groups do not line up"
            )
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(coef)) and np.all(np.isfinite(mean))):
            raise ExplanationError(f"linear: model {task.model.id}: non-finite encoded value or coefficient")
        unknown = sorted(set(lin.groups) - set(names))
        per_column = coef * (x[0] - mean)
        phi = np.zeros(len(names))
        index = {n: i for i, n in enumerate(names)}
        for col, group in enumerate(lin.groups):
            if group in index:
                phi[index[group]] += per_column[col]
        # Columns of fields absent from the input still move the output: fold them into the base.
        extra = float(sum(per_column[c] for c, g in enumerate(lin.groups) if g not in index))
        base = float(lin.intercept + coef @ mean) + extra
        output = float(lin.intercept + coef @ x[0])
        kind = link_output_kind(lin.link, lin.output_kind, task.output_kind)
        return build_explanation(
            task.model,
            task.features,
            names,
            phi,
            base,
            output,
            output_kind=kind,
            method=self.name,
            evaluations=0,
            exact=True,
            metadata={"link": lin.link, "unexplained_fields": unknown},
        )
