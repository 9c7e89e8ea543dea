"""compare(): the difference of two rows' explanations, with real attributions."""

from __future__ import annotations

import numpy as np
import pytest
from support.explain import FuncProvider, builtin_specs, numeric_encoder

from hotcrm_ai.config import ExplainSettings
from hotcrm_ai.explain.service import ExplainabilityService
from hotcrm_ai.types import FeatureSpec, ModelConfig

NAMES = ["seats", "tickets", "nps", "age"]
MODEL = ModelConfig(
    id="cmp", name="c", type="regression", provider="test-func", features=[FeatureSpec(n, default=0) for n in NAMES]
)


def fn(x: np.ndarray) -> np.ndarray:
    return 2.0 * x[:, 0] - 3.0 * x[:, 1] + 0.5 * x[:, 2] + x[:, 0] * x[:, 3]


def svc() -> ExplainabilityService:
    return ExplainabilityService(builtin_specs(), ExplainSettings())


def test_differences_are_the_change_in_each_changed_feature_contribution() -> None:
    a = {"seats": 10, "tickets": 1, "nps": 8, "age": 2}
    b = {"seats": 12, "tickets": 5, "nps": 8, "age": 2}
    provider = FuncProvider(fn, numeric_encoder(NAMES))
    cmp = svc().compare(MODEL, a, b, provider)
    ca = {c.feature: c.contribution for c in cmp.explanation1.contributions}
    cb = {c.feature: c.contribution for c in cmp.explanation2.contributions}
    assert [d.feature for d in cmp.differences] == ["tickets", "seats"]  # |-12| > |+6|, nps/age unchanged
    for d in cmp.differences:
        assert d.impact_difference == pytest.approx(cb[d.feature] - ca[d.feature], abs=1e-12)
    tickets, seats = cmp.differences
    assert (tickets.value1, tickets.value2, tickets.impact_difference) == (1, 5, pytest.approx(-12.0))
    # 2*seats, plus half of the seats*age interaction (split equally with age against the 0 baseline)
    assert seats.impact_difference == pytest.approx(2.0 * (12 - 10) + (12 * 2 - 10 * 2) / 2)
    assert cmp.text == (
        "Key differences:\n\n"
        "• Tickets changed from 1 to 5, which decreased the prediction\n"
        "• Seats changed from 10 to 12, which increased the prediction\n"
    )
    expected = fn(np.array([[12.0, 5, 8, 2]]))[0] - fn(np.array([[10.0, 1, 8, 2]]))[0]
    assert cmp.output_difference == pytest.approx(float(expected))


def test_identical_inputs_have_no_differences() -> None:
    a = {"seats": 10, "tickets": 1, "nps": 8, "age": 2}
    cmp = svc().compare(MODEL, a, dict(a), FuncProvider(fn, numeric_encoder(NAMES)))
    assert cmp.differences == () and cmp.text == "No significant differences found."


def test_missing_key_and_a_change_that_moves_nothing() -> None:
    names = ["seats", "tickets", "nps", "age", "colour"]
    model = ModelConfig(
        id="cmp2",
        name="c",
        type="regression",
        provider="test-func",
        features=[*(FeatureSpec(n, default=0) for n in NAMES), FeatureSpec("colour", dtype="string")],
    )

    def enc(rows):  # type: ignore[no-untyped-def]
        return np.array([[float(r.get(n, 0)) for n in NAMES] for r in rows])

    a = {"seats": 1, "tickets": 1, "nps": 1, "age": 1, "colour": "red"}
    b = {"seats": 1, "tickets": 1, "nps": 1, "age": 1, "colour": "blue"}
    cmp = svc().compare(model, a, b, FuncProvider(fn, enc))
    assert [(d.feature, d.impact_difference) for d in cmp.differences] == [("colour", 0.0)]
    assert cmp.text.endswith("• Colour changed from red to blue, which did not change the prediction\n")
    c = {"seats": 1, "tickets": 1, "nps": 1, "age": 1}
    cmp2 = svc().compare(model, c, {**c, "nps": 3}, FuncProvider(fn, enc))
    assert [d.feature for d in cmp2.differences] == ["nps"]
    assert names  # all five fields declared
