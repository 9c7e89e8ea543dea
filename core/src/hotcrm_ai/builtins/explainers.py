"""The built-in Shapley explainers, registered like any plugin's (a plugin may replace them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotcrm_ai.descriptors import ExplainerSpec
from hotcrm_ai.hookspecs import hookimpl


def _exact() -> Any:
    from hotcrm_ai.explain.exact import ExactExplainer

    return ExactExplainer()


def _linear() -> Any:
    from hotcrm_ai.explain.linear import LinearExplainer

    return LinearExplainer()


def _kernel() -> Any:
    from hotcrm_ai.explain.kernel import KernelExplainer

    return KernelExplainer()


def _text() -> Any:
    from hotcrm_ai.explain.words import WordExplainer

    return WordExplainer()


def _additive() -> Any:
    from hotcrm_ai.explain.additive import AdditiveExplainer

    return AdditiveExplainer()


@hookimpl
def register_explainers(register: Callable[[Any], None]) -> None:
    register(ExplainerSpec("exact", _exact, "exact interventional Shapley values, all coalitions (<= ~12 fields)"))
    register(ExplainerSpec("linear", _linear, "closed-form Shapley values of a linear model in link space"))
    register(ExplainerSpec("text", _text, "word-level Shapley (few words) or Owen values (more), by masking words"))
    register(
        ExplainerSpec(
            "additive",
            _additive,
            "the model's own exact parts (forecast level/trend/season, basket products' shares of a recommendation)",
        )
    )
    register(ExplainerSpec("kernel", _kernel, "Kernel SHAP, paired sampling, budget and seed, error estimate"))
