"""ExplainabilityService: which number is explained, background rules, budget, method choice, bad
input, and the facade (predict(explain=True), explain, compare) with a plugin-served model."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from support.explain import FuncProvider, brute_force_shapley, builtin_specs, numeric_encoder, rows_fn

from hotcrm_ai import hookimpl
from hotcrm_ai.config import ExplainSettings, Settings
from hotcrm_ai.descriptors import ExplainerSpec, ProviderSpec
from hotcrm_ai.errors import ExplanationError, ValidationError
from hotcrm_ai.explain.background import background_rows
from hotcrm_ai.explain.service import ExplainabilityService
from hotcrm_ai.types import Explanation, FeatureSpec, ModelConfig

NAMES = ["a", "b", "c"]


def fn(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(x[:, 0] * x[:, 1] - x[:, 2])))


def model(**kw: Any) -> ModelConfig:
    kw.setdefault("features", [FeatureSpec(n, minimum=-1, maximum=3) for n in NAMES])
    kw.setdefault("id", "svc")
    return ModelConfig(name="s", type="classification", provider="test-func", **kw)


def svc(**kw: Any) -> ExplainabilityService:
    return ExplainabilityService(builtin_specs(), ExplainSettings(**kw))


X = {"a": 2.0, "b": 1.5, "c": -0.5}


@pytest.mark.parametrize(
    ("wrap", "explain_output", "kind", "field"),
    [
        (float, None, "value", None),
        (lambda p: {"probability": p, "label": "won" if p > 0.5 else "lost"}, None, "probability", "probability"),
        (lambda p: {"score": 100 * p, "probability": p}, "score", "score", "score"),
        (lambda p: {"lead_score": 100 * p, "grade": "A"}, None, "score", "lead_score"),
    ],
)
def test_which_number_is_explained(wrap: Any, explain_output: str | None, kind: str, field: str | None) -> None:
    provider = FuncProvider(fn, numeric_encoder(NAMES), wrap=wrap)
    exp = svc().explain_model(model(explain_output=explain_output), X, provider)
    assert exp.output_kind == kind and exp.metadata["explained_field"] == field
    scale = 100 if kind == "score" else 1
    assert exp.output_value == pytest.approx(scale * float(fn(np.array([[2.0, 1.5, -0.5]]))[0]), abs=1e-12)


@pytest.mark.parametrize(
    ("wrap", "explain_output", "message"),
    [
        (lambda p: {"p": p, "q": 1 - p}, None, r"cannot tell which number.*numeric fields: p, q.*explain_output"),
        (lambda p: {"label": "won"}, None, r"numeric fields: none"),
        (lambda p: {"p": p}, "probability", r"explain_output 'probability' is not in the prediction \(fields: p\)"),
        (lambda p: {"probability": "high"}, "probability", r"prediction\['probability'\]: expected a number, got str"),
        (lambda p: "positive", None, r"prediction is a str"),
        (lambda p: {"probability": float("nan")}, "probability", r"expected a finite number, got nan"),
    ],
)
def test_unexplainable_outputs_are_typed_errors(wrap: Any, explain_output: str | None, message: str) -> None:
    with pytest.raises(ExplanationError, match=message):
        provider = FuncProvider(fn, numeric_encoder(NAMES), wrap=wrap)
        svc().explain_model(model(explain_output=explain_output), X, provider)


def test_background_defaults_from_feature_specs() -> None:
    m = ModelConfig(
        id="bg",
        name="bg",
        type="regression",
        provider="p",
        features=[
            FeatureSpec("n", minimum=0, maximum=5),
            FeatureSpec("i", dtype="integer", minimum=0, maximum=5),
            FeatureSpec("d", default=7),
            FeatureSpec("c", dtype="string", choices=("x", "y")),
            FeatureSpec("t", dtype="string"),
            FeatureSpec("b", dtype="boolean"),
            FeatureSpec("free"),
        ],
    )
    rows, source = background_rows(m, ["n", "i", "d", "c", "t", "b"])
    assert source == "feature-defaults"
    assert rows == [{"n": 2.5, "i": 3, "d": 7, "c": "x", "t": "", "b": False}]  # 2.5 rounds half-up to 3
    with pytest.raises(ExplanationError, match=r"no background value for feature 'free'.*no default, no minimum"):
        background_rows(m, ["n", "free"])
    with pytest.raises(ExplanationError, match=r"'ghost': it is not in the model's feature specs"):
        background_rows(m, ["ghost"])


def test_declared_background_is_subsampled_filled_and_restricted() -> None:
    rows = [{"a": float(i), "b": 1.0, "extra": "dropped"} for i in range(30)]
    m = model(background=rows)
    got, source = background_rows(m, NAMES, max_rows=10, seed=3)
    again, _ = background_rows(m, NAMES, max_rows=10, seed=3)
    assert source == "model" and got == again and len(got) == 10
    assert [r["a"] for r in got] == sorted(r["a"] for r in got)  # order kept
    assert all(set(r) == set(NAMES) and r["c"] == 1.0 for r in got)  # c filled from its spec midpoint


def test_explanation_uses_the_subsampled_background_and_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    rows = [{n: float(v) for n, v in zip(NAMES, rng.normal(size=3), strict=True)} for _ in range(40)]
    p = FuncProvider(fn, numeric_encoder(NAMES))
    exp = svc(max_background=8).explain_model(model(background=rows), X, p)
    used, _ = background_rows(model(background=rows), NAMES, max_rows=8, seed=0)
    ref, base = brute_force_shapley(rows_fn(p), X, used, NAMES)
    np.testing.assert_allclose([c.contribution for c in exp.contributions], ref, atol=1e-12)
    assert exp.metadata["background_rows"] == 8 and exp.base_value == pytest.approx(base, abs=1e-12)


def test_budget_caps_model_evaluations() -> None:
    rows = [{n: float(i) for n in NAMES} for i in range(10)]
    p = FuncProvider(fn, numeric_encoder(NAMES))
    with pytest.raises(ExplanationError, match=r"no explainer can explain model svc \(3 features, 10 background"):
        svc(budget=15).explain_model(model(background=rows), X, p)
    assert p.rows <= 15
    exp = svc(budget=200).explain_model(model(background=rows), X, p)
    assert exp.evaluations <= 200 and exp.method == "exact"


def test_prediction_passed_in_saves_an_evaluation() -> None:
    p = FuncProvider(fn, numeric_encoder(NAMES))
    first = svc().explain_model(model(), X, p)
    given = svc().explain_model(model(), X, p, prediction=float(fn(np.array([[2.0, 1.5, -0.5]]))[0]))
    assert given.evaluations == first.evaluations - 1
    assert given.contributions == first.contributions


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ({}, "at least one feature"),
        ({"a": float("nan"), "b": 1.0, "c": 1.0}, "a: expected a finite number"),
        ({"a": float("inf"), "b": 1.0, "c": 1.0}, "a: expected a finite number"),
        (["a", "b"], "a table of feature values, got list"),
    ],
)
def test_bad_features_are_validation_errors(features: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        svc().explain_model(model(), features, FuncProvider(fn, numeric_encoder(NAMES)))


def test_unknown_method_names_the_registered_ones() -> None:
    registered = "additive, exact, kernel, linear, text"
    with pytest.raises(ExplanationError, match=rf"'shapley-magic' is not registered; available: {registered}"):
        svc().explain_model(model(), X, FuncProvider(fn, numeric_encoder(NAMES)), method="shapley-magic")


def test_model_config_names_its_explainer() -> None:
    exp = svc().explain_model(model(explainer="kernel"), X, FuncProvider(fn, numeric_encoder(NAMES)))
    assert exp.method == "kernel" and exp.exact  # 3 features: the budget covers every coalition


class _NonAdditive:
    name = "broken"

    def supports(self, task: Any) -> bool:
        return True

    def explain(self, task: Any) -> Explanation:
        from hotcrm_ai.explain.result import build_explanation

        return build_explanation(
            task.model,
            task.features,
            list(task.features),
            np.ones(len(task.features)),
            0.0,
            1.0,
            output_kind=task.output_kind,
            method=self.name,
        )


def test_a_plugin_explainer_that_does_not_add_up_is_rejected() -> None:
    specs = {**builtin_specs(), "broken": ExplainerSpec("broken", _NonAdditive)}
    s = ExplainabilityService(specs, ExplainSettings())
    with pytest.raises(ExplanationError, match="broken attributions do not add up"):
        s.explain_model(model(), X, FuncProvider(fn, numeric_encoder(NAMES)), method="broken")


# -- through the facade --------------------------------------------------------------------------


class _Plugin:
    @hookimpl
    def register_providers(self, register: Any) -> None:
        register(
            ProviderSpec(
                "test-func",
                lambda config: FuncProvider(
                    fn, numeric_encoder(NAMES), wrap=lambda p: {"probability": p, "label": "won" if p > 0.5 else "lost"}
                ),
            )
        )

    @hookimpl
    def register_models(self, register: Any) -> None:
        register(model(id="svc-facade", background=[{"a": 0.0, "b": 0.0, "c": 0.0}, {"a": 1.0, "b": 2.0, "c": 1.0}]))


def test_facade_predict_explain_and_compare() -> None:
    from hotcrm_ai.cloud import AICloud

    ai = AICloud(Settings(), plugins=[_Plugin()], load_entrypoints=False)
    try:
        result = ai.predict("svc-facade", X, explain=True, use_cache=False)
        exp = result.explanation
        assert exp is not None and exp.method == "exact" and exp.output_kind == "probability"
        assert exp.output_value == pytest.approx(result.prediction["probability"], abs=1e-12)
        assert math.isclose(
            exp.base_value + sum(c.contribution for c in exp.contributions), exp.output_value, abs_tol=1e-9
        )
        direct = ai.explain("svc-facade", X)
        assert direct.contributions == exp.contributions
        cmp = ai.compare("svc-facade", X, {**X, "c": 2.5})
        assert [d.feature for d in cmp.differences] == ["c"] and cmp.differences[0].impact_difference < 0
        assert cmp.text == "Key differences:\n\n• C changed from -0.5 to 2.5, which decreased the prediction\n"
    finally:
        ai.close()


def test_registering_the_builtin_explainers_imports_no_numpy() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from hotcrm_ai.builtins import explainers\n"
        "specs = []\n"
        "explainers.register_explainers(specs.append)\n"
        "assert [s.name for s in specs] == ['exact', 'linear', 'text', 'additive', 'kernel'], specs\n"
        "print('numpy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_untyped_provider_failure_and_huge_int_output_are_explanation_errors() -> None:
    """Review regressions: a provider raising ValueError mid-explanation leaked it untyped, and an
    int prediction beyond float range raised OverflowError instead of ExplanationError."""

    def broken(x: np.ndarray) -> np.ndarray:
        raise ValueError("provider bug")

    with pytest.raises(ExplanationError, match="ValueError: provider bug"):
        svc().explain_model(model(), X, FuncProvider(broken, numeric_encoder(NAMES)))
    huge = FuncProvider(fn, numeric_encoder(NAMES), wrap=lambda p: 10**400)
    with pytest.raises(ExplanationError, match="finite number"):
        svc().explain_model(model(), X, huge)
