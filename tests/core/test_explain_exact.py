"""Exact Shapley explainer: properties against hand-built models and a brute-force reference."""

from __future__ import annotations

import numpy as np
import pytest
from support.explain import FuncProvider, brute_force_shapley, builtin_specs, numeric_encoder, rows_fn

from hotcrm_ai.config import ExplainSettings
from hotcrm_ai.errors import ExplanationError
from hotcrm_ai.explain.exact import ExactExplainer, exact_cost
from hotcrm_ai.explain.service import ExplainabilityService
from hotcrm_ai.interfaces import ExplanationTask
from hotcrm_ai.types import FeatureSpec, ModelConfig

NAMES = ["a", "b", "c", "d", "e", "f"]


def nonlinear(x: np.ndarray) -> np.ndarray:
    # f ignores column 5 ("f"): a null player; interactions of order 2 and 3.
    return x[:, 0] * x[:, 1] + np.sin(x[:, 2]) + x[:, 3] ** 2 - x[:, 4] * x[:, 0] * x[:, 3] + np.exp(0.1 * x[:, 1])


def model(names: list[str] = NAMES, background: list[dict] | None = None, **kw) -> ModelConfig:
    rng = np.random.default_rng(7)
    bg = (
        background
        if background is not None
        else [{n: float(v) for n, v in zip(names, rng.normal(size=len(names)), strict=True)} for _ in range(5)]
    )
    return ModelConfig(
        id="hand-nonlinear",
        name="hand",
        type="regression",
        provider="test-func",
        features=[FeatureSpec(n) for n in names],
        background=bg,
        **kw,
    )


def service(**kw) -> ExplainabilityService:
    return ExplainabilityService(builtin_specs(), ExplainSettings(**kw))


X = {"a": 1.5, "b": -0.7, "c": 2.0, "d": 0.3, "e": 1.1, "f": 9.0}


def test_exact_matches_brute_force_permutation_definition() -> None:
    provider = FuncProvider(nonlinear, numeric_encoder(NAMES))
    m = model()
    exp = service().explain_model(m, X, provider, method="exact")
    ref, base = brute_force_shapley(rows_fn(provider), X, m.background, NAMES)
    got = np.array([c.contribution for c in exp.contributions])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)
    assert exp.base_value == pytest.approx(base, abs=1e-12)
    assert exp.method == "exact" and exp.exact and exp.output_kind == "value"


def test_additivity_to_1e_9_and_output_is_the_model_output() -> None:
    provider = FuncProvider(nonlinear, numeric_encoder(NAMES))
    exp = service().explain_model(model(), X, provider, method="exact")
    total = exp.base_value + sum(c.contribution for c in exp.contributions)
    assert abs(total - exp.output_value) <= 1e-9
    assert exp.output_value == pytest.approx(float(nonlinear(numeric_encoder(NAMES)([X]))[0]), abs=1e-12)
    assert exp.metadata["model_output"] == pytest.approx(exp.output_value, abs=1e-12)


def test_null_player_gets_exactly_zero() -> None:
    provider = FuncProvider(nonlinear, numeric_encoder(NAMES))
    exp = service().explain_model(model(), X, provider, method="exact")
    assert {c.feature: c.contribution for c in exp.contributions}["f"] == 0.0


def test_symmetry_interchangeable_features_get_equal_credit() -> None:
    names = ["p", "q", "r"]
    provider = FuncProvider(lambda x: np.tanh(x[:, 0] * x[:, 1]) + x[:, 2], numeric_encoder(names))
    m = model(names, background=[{"p": 0.5, "q": 0.5, "r": 0.0}, {"p": -1.0, "q": -1.0, "r": 1.0}])
    exp = service().explain_model(m, {"p": 2.0, "q": 2.0, "r": 0.3}, provider, method="exact")
    c = {x.feature: x.contribution for x in exp.contributions}
    assert c["p"] == pytest.approx(c["q"], abs=1e-12)
    assert c["p"] != 0.0


def test_constant_model_gets_all_zeros_and_header_only_text() -> None:
    provider = FuncProvider(lambda x: np.full(len(x), 3.25), numeric_encoder(NAMES))
    exp = service().explain_model(model(), X, provider, method="exact")
    assert all(c.contribution == 0.0 and c.importance == 0.0 for c in exp.contributions)
    assert exp.base_value == exp.output_value == 3.25
    assert exp.text == "The prediction was influenced by:\n\n"


def test_all_coalitions_in_one_score_call_and_evaluations_counted() -> None:
    names = NAMES[:4]

    def nonlinear_4(x: np.ndarray) -> np.ndarray:
        return x[:, 0] * x[:, 1] + x[:, 2] - x[:, 3] ** 2

    provider = FuncProvider(nonlinear_4, numeric_encoder(names))
    m = model(names)
    calls: list[int] = []

    def score(rows):  # type: ignore[no-untyped-def]
        calls.append(len(rows))
        return nonlinear_4(numeric_encoder(names)(list(rows)))

    task = ExplanationTask(
        model=m, features={n: X[n] for n in names}, score=score, background=list(m.background), output_kind="value"
    )
    exp = ExactExplainer().explain(task)
    assert calls == [exact_cost(4, 5)] == [(2**4 - 1) * 5 + 1]
    assert exp.evaluations == calls[0]
    # Through the service: evaluations are the rows the provider really scored (plus the first prediction).
    exp2 = service().explain_model(m, {n: X[n] for n in names}, provider, method="exact")
    assert exp2.evaluations == provider.rows == exact_cost(4, 5) + 1


def test_large_batches_are_chunked_for_the_provider() -> None:
    rng = np.random.default_rng(1)
    names = [f"x{i}" for i in range(9)]
    bg = [{n: float(v) for n, v in zip(names, rng.normal(size=9), strict=True)} for _ in range(20)]
    provider = FuncProvider(lambda x: x.sum(axis=1) * x[:, 0], numeric_encoder(names))
    exp = service().explain_model(model(names, background=bg), {n: 1.0 for n in names}, provider, method="exact")
    assert max(provider.batch_sizes) <= 2048
    assert sum(provider.batch_sizes) == exp.evaluations == exact_cost(9, 20) + 1
    assert exp.metadata["provider_calls"] == provider.calls


def test_exact_refuses_beyond_budget_with_a_clear_error() -> None:
    provider = FuncProvider(nonlinear, numeric_encoder(NAMES))
    with pytest.raises(ExplanationError, match=r"exact.*budget 100"):
        service(budget=100).explain_model(model(), X, provider, method="exact")


def test_determinism_same_inputs_same_result() -> None:
    provider = FuncProvider(nonlinear, numeric_encoder(NAMES))
    a = service().explain_model(model(), X, provider, method="exact")
    b = service().explain_model(model(), X, provider, method="exact")
    assert a.contributions == b.contributions and a.base_value == b.base_value


def test_rows_equal_across_coalitions_are_scored_once() -> None:
    # categorical background rows that already hold some explained values: S and S+{i} give the same
    # row when row b has x_i, so each distinct row is scored once; the values stay brute-force exact
    names = ["plan", "region", "seats", "active"]
    plans, regions = ["free", "pro", "team"], ["eu", "us"]

    def encode(rows):  # type: ignore[no-untyped-def]
        return np.array(
            [
                [plans.index(r["plan"]), regions.index(r["region"]), float(r["seats"]), 1.0 if r["active"] else 0.0]
                for r in rows
            ]
        )

    def f(x: np.ndarray) -> np.ndarray:
        return np.tanh(x[:, 0] * x[:, 2] / 10) + x[:, 1] * x[:, 3] - 0.1 * x[:, 0] ** 2

    bg = [
        {"plan": "pro", "region": "eu", "seats": 5, "active": True},
        {"plan": "free", "region": "us", "seats": 1, "active": False},
        {"plan": "pro", "region": "us", "seats": 5, "active": True},
    ]
    x = {"plan": "pro", "region": "us", "seats": 12, "active": True}
    m = ModelConfig(id="cat", name="c", type="regression", provider="test-func", background=bg)
    provider = FuncProvider(f, encode)
    exp = service().explain_model(m, x, provider, method="exact")
    ref, _ = brute_force_shapley(rows_fn(provider), x, bg, names)
    np.testing.assert_allclose([c.contribution for c in exp.contributions], ref, atol=1e-12)
    # row b agrees with x on e_b features -> 2^(4 - e_b) distinct rows (e = 2, 1, 3), plus x twice
    assert exp.evaluations == provider.rows == 1 + 1 + (2**2 + 2**3 + 2**1)
    assert exp.metadata["rows_deduplicated"] == exact_cost(4, 3) - 1 - (2**2 + 2**3 + 2**1)
    kernel = service().explain_model(m, x, provider, method="kernel")  # same rows: enumerates them all
    assert kernel.exact and kernel.evaluations <= exp.evaluations
    np.testing.assert_allclose([c.contribution for c in kernel.contributions], ref, atol=1e-9)
