"""Shapley-value explanations that add up: ``base_value + sum(contributions) == output_value``.

Modules, one job each: ``output`` (which number is explained), ``background`` (the reference rows),
``coalitions`` (the rows a coalition set is scored on), ``exact`` / ``linear`` / ``kernel`` (the
built-in methods, registered in ``hotcrm_ai.builtins.explainers``), ``result`` (contributions,
importance, top features), ``text`` (the readable reason text), ``compare`` and ``service``.
numpy is imported inside these modules only, never by ``import hotcrm_ai``.
"""

from __future__ import annotations
