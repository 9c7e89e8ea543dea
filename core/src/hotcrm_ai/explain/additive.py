"""The ``additive`` explainer: a model's own exact account of its output (``provider.attribution``).

Models that are sums by construction need no sampling: a forecast is level + trend + season, an
item-item recommender's score is a sum over the basket. Their provider hands over the parts
(``interfaces.Attribution``); this turns them into an ``Explanation`` like any other method's, with the
same additivity check. For a sum of independent parts these are the Shapley values.
"""

from __future__ import annotations

import attrs
import numpy as np

from hotcrm_ai.errors import ExplanationError
from hotcrm_ai.explain.result import TOP_N, build_explanation
from hotcrm_ai.explain.text import reason_text
from hotcrm_ai.interfaces import ExplanationTask
from hotcrm_ai.types import Explanation


class AdditiveExplainer:
    name = "additive"

    def supports(self, task: ExplanationTask) -> bool:
        return task.attribution is not None

    def explain(self, task: ExplanationTask) -> Explanation:
        att = task.attribution
        if att is None:
            raise ExplanationError(f"additive: model {task.model.id} gives no attribution of its own")
        names = list(att.contributions)
        phi = np.array([float(att.contributions[n]) for n in names])
        exp = build_explanation(
            task.model,
            {n: att.values.get(n) for n in names},
            names,
            phi,
            att.base,
            att.output,
            output_kind=att.output_kind,
            method=self.name,
            evaluations=0,
            exact=True,
            metadata={**att.metadata, "explained": att.explained},
        )
        contributions = tuple(attrs.evolve(c, label=att.labels.get(c.feature, c.label)) for c in exp.contributions)
        top = tuple(sorted(contributions, key=lambda c: -c.importance)[:TOP_N])
        return attrs.evolve(exp, contributions=contributions, top_features=top, text=reason_text(top))
