"""Sticky A/B assignment: stable per subject, split matches the percentage, bad champions never serve."""

from __future__ import annotations

import logging

import pytest

from hotcrm_ai import ABTest, ModelConfig
from hotcrm_ai.prediction.ab import CHALLENGER, CHAMPION, assign, bucket
from hotcrm_ai.registry import ModelRegistry


def registry(champion_status: str = "active", pct: float = 20.0) -> tuple[ModelRegistry, ModelConfig]:
    r = ModelRegistry()
    r.register(ModelConfig(id="lead-v2", name="v2", type="classification", provider="p", status=champion_status))
    challenger = ModelConfig(
        id="lead-v3",
        name="v3",
        type="classification",
        provider="p",
        ab_test=ABTest(enabled=True, traffic_percentage=pct, champion_model_id="lead-v2"),
    )
    r.register(challenger)
    return r, challenger


@pytest.mark.parametrize("pct", [0.0, 20.0, 50.0, 100.0])
def test_split_matches_percentage_over_10000_subjects(pct: float) -> None:
    r, challenger = registry(pct=pct)
    hits = sum(assign(challenger, r, {"subject": f"customer-{i}"}, {})[1] == CHALLENGER for i in range(10_000))
    assert abs(hits / 100 - pct) <= 2.0


def test_assignment_is_sticky_per_subject() -> None:
    r, challenger = registry(pct=50)
    for i in range(200):
        ctx = {"subject": f"c{i}"}
        first = assign(challenger, r, ctx, {"x": 1})
        assert all(assign(challenger, r, ctx, {"x": j})[1] == first[1] for j in range(5))


def test_without_subject_tenant_and_features_decide() -> None:
    r, challenger = registry(pct=50)
    a = assign(challenger, r, {"tenant": "acme"}, {"b": 2, "a": 1})
    b = assign(challenger, r, {"tenant": "acme"}, {"a": 1, "b": 2})
    assert a[1] == b[1]  # canonical order


def test_served_model_is_the_champion_for_champion_variant() -> None:
    r, challenger = registry(pct=0)
    model, variant = assign(challenger, r, {"subject": "x"}, {})
    assert (model.id, variant) == ("lead-v2", CHAMPION)


@pytest.mark.parametrize("status", ["deprecated", "training"])
def test_inactive_champion_never_serves(status: str, caplog: pytest.LogCaptureFixture) -> None:
    r, challenger = registry(champion_status=status, pct=0)
    caplog.set_level(logging.ERROR)
    model, variant = assign(challenger, r, {"subject": "x"}, {})
    assert model.id == "lead-v3" and variant == CHALLENGER
    assert "A/B config error" in caplog.text and status in caplog.text


def test_missing_champion_serves_challenger() -> None:
    r = ModelRegistry()
    ch = ModelConfig(
        id="solo",
        name="s",
        type="nlp",
        provider="p",
        ab_test=ABTest(enabled=True, traffic_percentage=0, champion_model_id="ghost"),
    )
    r.register(ch)
    assert assign(ch, r, {}, {})[0].id == "solo"


def test_buckets_differ_between_experiments() -> None:
    same = sum((bucket("exp-a", f"s{i}") < 50) == (bucket("exp-b", f"s{i}") < 50) for i in range(2000))
    assert 800 < same < 1200
