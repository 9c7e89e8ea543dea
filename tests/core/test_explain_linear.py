"""Linear closed form: agrees with exact enumeration on a logit model with a one-hot field."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from support.explain import FuncProvider, brute_force_shapley, builtin_specs

from hotcrm_ai.config import ExplainSettings
from hotcrm_ai.errors import ExplanationError
from hotcrm_ai.explain.service import ExplainabilityService
from hotcrm_ai.interfaces import LinearModel
from hotcrm_ai.types import FeatureSpec, ModelConfig

INDUSTRIES = ("technology", "retail", "other")
GROUPS = ("company_size", "engagement", "industry", "industry", "industry", "is_partner", "noise")
COEF = np.array([0.004, 0.03, 0.8, -0.4, 0.1, 0.6, 0.0])  # "noise" has coefficient 0: a null player
INTERCEPT = -2.5


def encode(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    out = np.zeros((len(rows), len(GROUPS)))
    for k, r in enumerate(rows):
        out[k, 0] = float(r["company_size"])
        out[k, 1] = float(r["engagement"])
        out[k, 2 + INDUSTRIES.index(r["industry"])] = 1.0
        out[k, 5] = 1.0 if r["is_partner"] else 0.0
        out[k, 6] = float(r["noise"])
    return out


BACKGROUND = [
    {"company_size": 50, "engagement": 20, "industry": "retail", "is_partner": False, "noise": 1.0},
    {"company_size": 800, "engagement": 70, "industry": "technology", "is_partner": True, "noise": -2.0},
    {"company_size": 200, "engagement": 45, "industry": "other", "is_partner": False, "noise": 0.5},
    {"company_size": 120, "engagement": 90, "industry": "retail", "is_partner": True, "noise": 3.0},
]
X = {"company_size": 500, "engagement": 85, "industry": "technology", "is_partner": True, "noise": 7.0}


def eta(design: np.ndarray) -> np.ndarray:
    return INTERCEPT + design @ COEF


def provider(mean: np.ndarray | None = None, *, linear: bool = True) -> FuncProvider:
    lin = LinearModel(
        coef=COEF,
        intercept=INTERCEPT,
        mean=encode(BACKGROUND).mean(axis=0) if mean is None else mean,
        groups=GROUPS,
        encode=encode,
        link="logit",
        output_kind="log-odds",
    )
    return FuncProvider(
        eta,
        encode,
        wrap=lambda e: {"probability": 1 / (1 + math.exp(-e)), "log_odds": e, "label": "won"},
        linear=lin if linear else None,
    )


def model(explain_output: str = "probability") -> ModelConfig:
    return ModelConfig(
        id="hand-logit",
        name="hand logit",
        type="classification",
        provider="test-func",
        features=[
            FeatureSpec("company_size"),
            FeatureSpec("engagement", label="Engagement Score"),
            FeatureSpec("industry", dtype="string", choices=INDUSTRIES),
            FeatureSpec("is_partner", dtype="boolean"),
            FeatureSpec("noise"),
        ],
        background=BACKGROUND,
        explain_output=explain_output,
    )


def service() -> ExplainabilityService:
    return ExplainabilityService(builtin_specs(), ExplainSettings())


def test_linear_is_chosen_and_explains_log_odds_additively() -> None:
    p = provider()
    exp = service().explain_model(model(), X, p)
    assert exp.method == "linear" and exp.output_kind == "log-odds"
    total = exp.base_value + sum(c.contribution for c in exp.contributions)
    assert abs(total - exp.output_value) <= 1e-6
    # the explained log-odds is the model's: sigmoid(output) is the probability the provider served
    assert 1 / (1 + math.exp(-exp.output_value)) == pytest.approx(exp.metadata["model_output"], abs=1e-12)
    # one-hot columns are reported as their field: five input fields, not seven columns
    assert [c.feature for c in exp.contributions] == list(X)


def test_closed_form_equals_exact_enumeration_and_brute_force() -> None:
    p = provider()
    lin = service().explain_model(model("log_odds"), X, p, method="linear")
    ex = service().explain_model(model("log_odds"), X, p, method="exact")
    names = list(X)
    ref, base = brute_force_shapley(lambda rows: eta(encode(rows)), X, BACKGROUND, names)
    got_lin = np.array([c.contribution for c in lin.contributions])
    got_ex = np.array([c.contribution for c in ex.contributions])
    np.testing.assert_allclose(got_lin, got_ex, atol=1e-9)
    np.testing.assert_allclose(got_lin, ref, atol=1e-9)
    assert lin.base_value == pytest.approx(ex.base_value, abs=1e-9) == pytest.approx(base, abs=1e-9)
    assert lin.evaluations == 0 and ex.evaluations > 1  # the closed form needs no model call at all


def test_closed_form_by_hand_for_the_one_hot_field() -> None:
    exp = service().explain_model(model(), X, provider(), method="linear")
    mean = encode(BACKGROUND).mean(axis=0)
    x = encode([X])[0]
    by_hand = sum(COEF[j] * (x[j] - mean[j]) for j in (2, 3, 4))
    assert {c.feature: c.contribution for c in exp.contributions}["industry"] == pytest.approx(by_hand, abs=1e-12)


def test_null_player_zero_coefficient() -> None:
    exp = service().explain_model(model(), X, provider(), method="linear")
    assert {c.feature: c.contribution for c in exp.contributions}["noise"] == 0.0


def test_constant_linear_model_all_zero() -> None:
    zero = np.zeros(len(GROUPS))
    lin = LinearModel(coef=zero, intercept=1.0, mean=encode(BACKGROUND).mean(axis=0), groups=GROUPS, encode=encode)
    p = FuncProvider(lambda d: np.full(len(d), 1.0), encode, linear=lin)
    m = ModelConfig(id="const", name="c", type="regression", provider="test-func", background=BACKGROUND)
    exp = service().explain_model(m, X, p)
    assert exp.method == "linear" and all(c.contribution == 0.0 for c in exp.contributions)
    assert exp.base_value == exp.output_value == 1.0


def test_linear_requested_without_coefficients_is_refused() -> None:
    with pytest.raises(ExplanationError, match=r"'linear' cannot explain.*no coefficients"):
        service().explain_model(model(), X, provider(linear=False), method="linear")


def test_mismatched_linear_model_is_an_error() -> None:
    bad = LinearModel(coef=COEF[:3], intercept=0.0, mean=np.zeros(3), groups=GROUPS[:3], encode=encode)
    p = FuncProvider(eta, encode, linear=bad)
    with pytest.raises(ExplanationError, match="do not line up"):
        service().explain_model(model("log_odds"), X, p, method="linear")


def test_linear_needs_no_background_when_none_can_be_built() -> None:
    # no background rows and no defaults/ranges on the numbers: only the closed form can explain it
    m = ModelConfig(
        id="hand-logit-nobg",
        name="n",
        type="classification",
        provider="test-func",
        features=[
            FeatureSpec("company_size"),
            FeatureSpec("engagement"),
            FeatureSpec("industry", dtype="string", choices=INDUSTRIES),
            FeatureSpec("is_partner", dtype="boolean"),
            FeatureSpec("noise"),
        ],
        explain_output="probability",
    )
    exp = service().explain_model(m, X, provider())
    assert exp.method == "linear" and exp.metadata["background_rows"] == 0
    assert abs(exp.base_value + sum(c.contribution for c in exp.contributions) - exp.output_value) <= 1e-6
    with pytest.raises(ExplanationError, match="no background value for feature 'company_size'"):
        service().explain_model(m, X, provider(), method="exact")


def test_batch_equals_row_by_row_and_probability_points_add_up() -> None:
    rng = np.random.default_rng(3)
    rows = [
        {
            "company_size": int(rng.integers(10, 1000)),
            "engagement": float(rng.uniform(0, 100)),
            "industry": INDUSTRIES[int(rng.integers(0, 3))],
            "is_partner": bool(rng.integers(0, 2)),
            "noise": float(rng.normal()),
        }
        for _ in range(40)
    ]
    svc, p, m = service(), provider(), model()
    batch = svc.explain_batch(m, rows, p)
    assert batch.names == tuple(X) and batch.phi.shape == (40, 5) and batch.output_kind == "log-odds"
    np.testing.assert_allclose(batch.base + batch.phi.sum(axis=1), batch.output, atol=1e-12)
    np.testing.assert_allclose(batch.output, eta(encode(rows)), atol=1e-12)
    assert batch.probability is not None and batch.base_probability is not None and batch.phi_probability is not None
    np.testing.assert_allclose(
        batch.base_probability + batch.phi_probability.sum(axis=1), batch.probability, atol=1e-12
    )
    np.testing.assert_allclose(batch.probability, 1 / (1 + np.exp(-eta(encode(rows)))), atol=1e-12)
    assert np.all(np.sign(batch.phi_probability) == np.sign(batch.phi))  # same direction on both scales
    for i in (0, 17, 39):
        one = svc.explain_model(m, rows[i], p)
        np.testing.assert_allclose([c.contribution for c in one.contributions], batch.phi[i], atol=1e-12)
        points = one.metadata["probability"]["contributions"]
        np.testing.assert_allclose([points[n] for n in X], batch.phi_probability[i], atol=1e-12)


def test_reason_text_says_how_many_probability_points() -> None:
    exp = service().explain_model(model(), X, provider())
    points = exp.metadata["probability"]["contributions"]
    assert exp.metadata["probability"]["text_uses"] == "probability points"
    top = exp.top_features[0]
    whole = int(abs(100 * points[top.feature]) + 0.5)
    verb = "raises" if points[top.feature] > 0 else "lowers"
    assert f"{verb} the probability by {whole} point" in exp.text.splitlines()[3]


def test_batch_refuses_mixed_rows_and_models_without_coefficients() -> None:
    from hotcrm_ai.errors import ValidationError

    with pytest.raises(ValidationError, match=r"rows\[1\]"):
        service().explain_batch(model(), [X, {k: v for k, v in X.items() if k != "noise"}], provider())
    with pytest.raises(ExplanationError, match="batched explanations need a linear model"):
        service().explain_batch(model(), [X], provider(linear=False))


def test_batch_of_columns_equals_batch_of_rows() -> None:
    from hotcrm_ai.errors import ValidationError

    rng = np.random.default_rng(4)
    rows = [
        {
            "company_size": int(rng.integers(10, 1000)),
            "engagement": float(rng.uniform(0, 100)),
            "industry": INDUSTRIES[int(rng.integers(0, 3))],
            "is_partner": bool(rng.integers(0, 2)),
            "noise": float(rng.normal()),
        }
        for _ in range(25)
    ]
    columns = {k: [r[k] for r in rows] for k in X}
    columns["engagement"] = np.asarray(columns["engagement"])  # arrays and lists both read as columns
    svc, p, m = service(), provider(), model()
    by_rows, by_columns = svc.explain_batch(m, rows, p), svc.explain_batch(m, columns, p)
    assert by_columns.names == by_rows.names and len(by_columns) == 25
    np.testing.assert_array_equal(by_columns.phi, by_rows.phi)
    np.testing.assert_array_equal(by_columns.base, by_rows.base)
    with pytest.raises(ValidationError, match="noise"):
        svc.explain_batch(m, {**columns, "noise": columns["noise"][:-1]}, p)


def test_compiled_contributions_are_the_constructors_objects() -> None:
    import attrs

    from hotcrm_ai.explain import result
    from hotcrm_ai.types import FeatureContribution

    assert result._SETTERS is not None  # FeatureContribution is a plain record today
    names, values = ["a", "b"], {"a": 1, "b": "x"}
    got = result.contribution_records(names, values, [0.5, -0.25], [66.7, 33.3], ["A", "B"])
    want = (FeatureContribution("a", 1, 0.5, 66.7, "A"), FeatureContribution("b", "x", -0.25, 33.3, "B"))
    assert got == want and hash(got) == hash(want) and repr(got) == repr(want)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        got[0].contribution = 1.0  # type: ignore[misc]
    exp = service().explain_model(model(), X, provider())
    by_constructor = tuple(
        FeatureContribution(c.feature, c.value, c.contribution, c.importance, c.label) for c in exp.contributions
    )
    assert exp.contributions == by_constructor


def test_deferred_explanation_builds_each_field_once_and_reads_as_the_eager_one() -> None:
    import json
    import pickle

    import attrs

    from hotcrm_ai.converter import converter
    from hotcrm_ai.types import Explanation

    exp = service().explain_model(model(), X, provider())
    eager = Explanation(**{f.name: getattr(exp, f.name) for f in attrs.fields(Explanation)})
    calls: list[str] = []

    def derive(name: str) -> Any:
        calls.append(name)
        value = getattr(eager, name)
        return list(value) if isinstance(value, tuple) else value  # a list: the field's converter applies

    def deferred() -> Explanation:
        return Explanation.deferred(
            eager.base_value, eager.output_value, eager.output_kind, derive, method=eager.method, exact=eager.exact
        )

    one = deferred()
    assert one.base_value == eager.base_value and not calls
    assert one.text == eager.text and calls == ["text"]
    assert one.text == eager.text and one.contributions == eager.contributions and calls == ["text", "contributions"]
    assert type(one.contributions) is tuple and "_derive" in vars(one)  # two fields still to build
    assert one.top_features == eager.top_features and one.metadata == eager.metadata and "_derive" not in vars(one)
    assert sorted(calls) == sorted(Explanation.DERIVED)
    assert deferred() == eager and repr(deferred()) == repr(eager)
    assert pickle.dumps(deferred()) == pickle.dumps(eager)
    assert json.dumps(converter.unstructure(deferred())) == json.dumps(converter.unstructure(eager))
    assert converter.structure(converter.unstructure(deferred()), Explanation) == eager
