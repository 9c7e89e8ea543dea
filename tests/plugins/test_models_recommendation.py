"""Recommendation: never an item already bought, unknown codes, k, batch == single."""

from __future__ import annotations

import pytest
from support.models import batch, models, predict, provider

from hotcrm_ai.errors import ValidationError
from hotcrm_ai_plugins.models.examples import RECOMMENDATION

ID = "product-recommendation-v1"


def test_recommends_related_items_never_already_bought() -> None:
    p, m = provider(), models()[ID]
    out = predict(p, m, RECOMMENDATION)
    items = out.prediction["items"]
    assert len(items) == 5
    assert not {i["id"] for i in items} & set(RECOMMENDATION["products"])
    assert all(set(i) == {"id", "description", "score"} and i["description"] for i in items)
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    assert 0 < out.confidence <= 100


def test_default_k_and_large_basket() -> None:
    p, m = provider(), models()[ID]
    runner = p.runner(m)
    basket = list(runner.codes[:300])
    out = predict(p, m, {"products": basket})
    assert len(out.prediction["items"]) == 10
    assert not {i["id"] for i in out.prediction["items"]} & set(basket)


def test_similar_baskets_get_related_items() -> None:
    """Christmas decorations lead to more Christmas items than a kitchen basket does."""
    p, m = provider(), models()[ID]
    runner = p.runner(m)
    xmas = [c for c, d in zip(runner.codes, runner.descriptions, strict=True) if "CHRISTMAS" in d][:5]
    out = predict(p, m, {"products": xmas, "k": 10})
    share = sum("CHRISTMAS" in i["description"] or "XMAS" in i["description"] for i in out.prediction["items"]) / 10
    catalogue_share = sum("CHRISTMAS" in d for d in runner.descriptions) / len(runner.descriptions)
    assert share > 3 * catalogue_share


def test_unknown_codes_are_ignored_and_reported() -> None:
    p, m = provider(), models()[ID]
    out = predict(p, m, {"products": ["85123A", "NOPE-1", 22423], "k": 3})
    assert out.metadata["unknown"] == ["NOPE-1"]
    assert len(out.prediction["items"]) == 3
    assert "22423" not in {i["id"] for i in out.prediction["items"]}


def test_lower_case_code_matches() -> None:
    p, m = provider(), models()[ID]
    assert predict(p, m, {"products": ["85123a"]}).prediction == predict(p, m, {"products": ["85123A"]}).prediction


@pytest.mark.parametrize(
    ("features", "field"),
    [
        ({"products": []}, "products"),
        ({"products": ["NOPE"]}, "products"),
        ({"products": "85123A"}, "products"),
        ({"products": [None]}, "products[0]"),
        ({"products": ["85123A"], "k": 0}, "k"),
        ({"products": ["85123A"], "k": 1000}, "k"),
        ({"products": ["85123A"], "k": "ten"}, "k"),
    ],
)
def test_bad_inputs(features: dict, field: str) -> None:
    p, m = provider(), models()[ID]
    with pytest.raises(ValidationError) as info:
        predict(p, m, features)
    assert info.value.errors[0].field == field


def test_batch_equals_single() -> None:
    p, m = provider(), models()[ID]
    rows = [dict(r) for r in m.background] + [RECOMMENDATION, {"products": ["22423"], "k": 7}]
    assert [o.prediction for o in batch(p, m, rows)] == [predict(p, m, r).prediction for r in rows]
    assert [o.confidence for o in batch(p, m, rows)] == [predict(p, m, r).confidence for r in rows]
