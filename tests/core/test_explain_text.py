"""Reason text: the original's layout with real Shapley numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support.explain import FuncProvider, builtin_specs

from hotcrm_ai.config import ExplainSettings
from hotcrm_ai.explain.service import ExplainabilityService
from hotcrm_ai.explain.text import reason_text
from hotcrm_ai.types import FeatureContribution, FeatureSpec, ModelConfig

# The original's heuristic as a real additive model: weight x normalised value, summed.
WEIGHTS = {"company_size": 0.25, "industry": 0.15, "engagement_score": 0.35, "job_title": 0.15, "budget": 0.10}
NAMES = list(WEIGHTS)


def normalise(v: object) -> float:
    if isinstance(v, bool):
        return 1.0 if v else -1.0
    if isinstance(v, (int, float)):
        return math.tanh(v / 100)
    if isinstance(v, str):
        return 0.5 if v else 0.0  # the empty string is the baseline: it contributes nothing
    return 0.0


def encode(rows):  # type: ignore[no-untyped-def]
    return np.array([[WEIGHTS[n] * normalise(r[n]) for n in NAMES] for r in rows])


LEAD = ModelConfig(
    id="lead-scoring-test",
    name="lead",
    type="classification",
    provider="test-func",
    features=[
        FeatureSpec("company_size", minimum=0, maximum=0),
        FeatureSpec("industry", dtype="string"),
        FeatureSpec("engagement_score", default=0),
        FeatureSpec("job_title", dtype="string"),
        FeatureSpec("budget", default=0),
    ],
)
WORKED = {"company_size": 500, "industry": "technology", "engagement_score": 85, "job_title": "CTO", "budget": 100000}


def test_worked_example_layout_with_real_numbers() -> None:
    svc = ExplainabilityService(builtin_specs(), ExplainSettings())
    exp = svc.explain_model(LEAD, WORKED, FuncProvider(lambda d: d.sum(axis=1), encode), method="exact")
    # the additive model's Shapley values against the zero baseline are the original's contributions
    got = {c.feature: c.contribution for c in exp.contributions}
    assert got == {n: pytest.approx(WEIGHTS[n] * normalise(WORKED[n]), abs=1e-12) for n in NAMES}
    # importance = share of total |contribution|: 0.24998/0.74185 = 33.70% ... (the original printed |c|x100)
    assert exp.text == (
        "The prediction was influenced by:\n\n"
        "Positive factors:\n"
        "• Company Size: 500 (impact: +34%)\n"
        "• Engagement Score: 85 (impact: +33%)\n"
        "• Budget: 100,000 (impact: +13%)\n"
        "• Industry: technology (impact: +10%)\n"
        "• Job Title: CTO (impact: +10%)\n"
    )
    top = [c.feature for c in exp.top_features]
    assert top == ["company_size", "engagement_score", "budget", "industry", "job_title"]
    assert math.isclose(sum(c.importance for c in exp.contributions), 100.0)


def test_negative_block_half_up_rounding_labels_and_value_formats() -> None:
    top = [
        FeatureContribution("e-mail_opens", 1234.5678, 0.925, 92.5, label="E-Mail Opens"),
        FeatureContribution("is_partner", False, -0.075, 7.5, label="Is Partner"),
        FeatureContribution("ignored", None, 0.0, 0.0, label="Ignored"),
        FeatureContribution("tags", ["a", "b"], -0.0001, 2.5, label="Tags"),
    ]
    assert reason_text(top) == (
        "The prediction was influenced by:\n\n"
        "Positive factors:\n"
        "• E-Mail Opens: 1,234.568 (impact: +93%)\n"
        "\nNegative factors:\n"
        "• Is Partner: No (impact: -8%)\n"
        "• Tags: a,b (impact: -3%)\n"
    )


def test_labels_come_from_feature_specs_and_only_top_five_are_listed() -> None:
    names = [f"f_{i}" for i in range(7)]
    model = ModelConfig(
        id="labels",
        name="l",
        type="regression",
        provider="test-func",
        features=[FeatureSpec(n, default=0, label="Seats Bought" if n == "f_6" else "") for n in names],
    )
    coef = np.array([-1.0, 2.0, 3.0, -4.0, 5.0, 0.5, 6.0])
    provider = FuncProvider(lambda d: d @ coef, lambda rows: np.array([[float(r[n]) for n in names] for r in rows]))
    exp = ExplainabilityService(builtin_specs(), ExplainSettings()).explain_model(
        model, {n: 1 for n in names}, provider, method="exact"
    )
    assert [c.feature for c in exp.top_features] == ["f_6", "f_4", "f_3", "f_2", "f_1"]
    lines = exp.text.splitlines()
    assert lines[3] == "• Seats Bought: 1 (impact: +28%)"  # 6 / 21.5 = 27.9%
    assert "• F 3: 1 (impact: -19%)" in lines and "F 0" not in exp.text and "F 5" not in exp.text
    assert lines[2] == "Positive factors:" and "\nNegative factors:\n" in exp.text


def test_huge_feature_values_are_formatted_not_crashing() -> None:
    """Review regression: a feature value >= ~1e25 made hotcrm_ai.text.round_half_up raise
    decimal.InvalidOperation (the default 28-digit context), so explaining such a row crashed."""
    text = reason_text([FeatureContribution("rate", 1e308, 0.5, 100.0, label="Rate")])
    assert "• Rate: 100,000,000,000,000,000" in text and "(impact: +100%)" in text
    assert "15,000,000,000,000,000,000,000,000 (impact" in reason_text(
        [FeatureContribution("amount", 1.5e25, 1.0, 100.0, label="Amount")]
    )


def test_whole_half_up_and_integer_formatting_agree_with_the_decimal_route() -> None:
    import random

    from hotcrm_ai.text import _format_float, format_number, round_half_up, whole_half_up

    rng = random.Random(5)
    halves = [k + 0.5 for k in range(-50, 50)] + [0.49999999999999994, 2.5000000000000004, 99.49999999999999]
    values = halves + [rng.uniform(-1000, 1000) for _ in range(2000)] + [0.0, -0.0, 7.5, 100.0]
    for v in values:
        assert whole_half_up(v) == int(round_half_up(v)), v
    ints = [0, 1, -1, 999, 1000, -1234567, 2**53 - 1, -(2**53 - 1)]
    ints += [rng.randrange(-(10**12), 10**12) for _ in range(500)]
    for n in ints:
        assert format_number(n) == _format_float.__wrapped__(float(n)), n
