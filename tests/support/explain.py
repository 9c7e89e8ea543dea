"""Test helpers for the explain area: a tiny numpy provider for hand-built models, and a brute-force
Shapley reference written from the permutation definition, independent of hotcrm_ai.explain."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from hotcrm_ai.descriptors import ExplainerSpec
from hotcrm_ai.interfaces import LinearModel
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.types import HealthReport, ModelConfig, PredictionInput, PredictionOutput, ProviderConfig

Rows = Sequence[Mapping[str, Any]]


def numeric_encoder(names: Sequence[str]) -> Callable[[Rows], np.ndarray]:
    def encode(rows: Rows) -> np.ndarray:
        return np.array([[float(r[n]) for n in names] for r in rows], dtype=float).reshape(len(rows), len(names))

    return encode


class FuncProvider(BaseMLProvider):
    """Serves ``fn(encode(rows))`` for every model; ``wrap`` shapes each number into a prediction.

    Counts rows and calls so tests can check what the explainer really asked for.
    """

    name = "test-func"
    native_batch = True

    def __init__(
        self,
        fn: Callable[[np.ndarray], np.ndarray],
        encode: Callable[[Rows], np.ndarray],
        *,
        wrap: Callable[[float], Any] = float,
        linear: LinearModel | None = None,
    ) -> None:
        super().__init__(ProviderConfig(provider="test-func"))
        self.fn, self.encode, self.wrap, self.linear = fn, encode, wrap, linear
        self.rows = 0
        self.calls = 0
        self.batch_sizes: list[int] = []

    def validate(self) -> bool:
        return True

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        return self.batch_predict(model, [inp])[0]

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        self.calls += 1
        self.rows += len(inputs)
        self.batch_sizes.append(len(inputs))
        y = np.asarray(self.fn(self.encode([i.features for i in inputs])), dtype=float)
        return [PredictionOutput(prediction=self.wrap(float(v)), confidence=50.0) for v in y]

    def health_check(self, model: ModelConfig | None = None) -> HealthReport:
        return HealthReport(healthy=True)

    def linear_model(self, model: ModelConfig) -> LinearModel | None:
        return self.linear


def builtin_specs() -> dict[str, ExplainerSpec]:
    """The explainers exactly as core registers them (through the hook function)."""
    from hotcrm_ai.builtins import explainers

    specs: list[ExplainerSpec] = []
    explainers.register_explainers(specs.append)
    return {s.name: s for s in specs}


def brute_force_shapley(
    f: Callable[[Rows], np.ndarray], x: Mapping[str, Any], background: Rows, names: Sequence[str]
) -> tuple[np.ndarray, float]:
    """Interventional Shapley values by the permutation definition: the average over all M! orderings
    of each feature's marginal contribution, with ``v(S) = mean_b f(x_S, b_rest)``. Returns (phi, v(empty))."""
    memo: dict[frozenset[str], float] = {}

    def v(coalition: frozenset[str]) -> float:
        if coalition not in memo:
            rows = [{n: (x[n] if n in coalition else b[n]) for n in names} for b in background]
            memo[coalition] = float(np.mean(f(rows)))
        return memo[coalition]

    phi = np.zeros(len(names))
    perms = list(itertools.permutations(range(len(names))))
    for order in perms:
        s: frozenset[str] = frozenset()
        for i in order:
            t = s | {names[i]}
            phi[i] += v(t) - v(s)
            s = t
    assert len(perms) == math.factorial(len(names))
    return phi / len(perms), v(frozenset())


def rows_fn(provider: FuncProvider) -> Callable[[Rows], np.ndarray]:
    """The provider's function on feature rows, bypassing the provider (for the reference)."""
    return lambda rows: np.asarray(provider.fn(provider.encode(rows)), dtype=float)
