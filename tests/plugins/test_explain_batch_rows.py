"""A batch of rows given as dictionaries is explained through the model's columnar path: the same
numbers as the rows explained one by one, and every bad row reported by row and field."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from hotcrm_ai import AICloud
from hotcrm_ai.errors import FieldError, ValidationError
from hotcrm_ai_plugins.runners.checks import as_number
from hotcrm_ai_plugins.runners.tabular import Encoder

LINEAR = ("lead-scoring-v1", "churn-prediction-v1")


@pytest.fixture(scope="module")
def ai() -> Any:
    with AICloud.from_config() as cloud:
        yield cloud


def table(ai: Any, model_id: str, n: int, seed: int = 0) -> list[dict[str, Any]]:
    background = [dict(r) for r in ai.registry.get(model_id).background]
    rng = np.random.default_rng(seed)
    return [dict(background[int(i)]) for i in rng.integers(0, len(background), size=n)]


@pytest.mark.parametrize("model_id", LINEAR)
def test_batch_of_dicts_equals_each_row_explained_alone(ai: Any, model_id: str) -> None:
    rows = table(ai, model_id, 300)
    batch = ai.explain_batch(model_id, rows)
    assert batch.names == tuple(rows[0]) and batch.phi.shape == (300, len(rows[0]))
    np.testing.assert_allclose(batch.base + batch.phi.sum(axis=1), batch.output, rtol=0, atol=1e-12)
    explain = ai.linear_explainer(model_id)
    for i in (0, 1, 150, 299):
        one = explain(rows[i])
        order = [one.names.index(n) for n in batch.names]  # the row's fields in the model's order
        np.testing.assert_allclose(batch.phi[i], np.asarray(one.phi)[order], rtol=0, atol=1e-12)
        assert batch.output[i] == pytest.approx(one.output, abs=1e-12)
        assert batch.phi_probability is not None and one.phi_probability is not None
        np.testing.assert_allclose(batch.phi_probability[i], np.asarray(one.phi_probability)[order], rtol=0, atol=1e-12)


def test_bad_rows_in_a_batch_of_dicts_are_named_by_row_and_field(ai: Any) -> None:
    rows = table(ai, "lead-scoring-v1", 40)
    rows[7]["age"] = -5  # below the field's minimum
    rows[12]["job"] = 3  # not a string
    rows[20]["campaign"] = 2.5  # not whole
    rows[31]["euribor3m"] = math.nan
    rows[33]["pdays"] = 10**400  # beyond the float range
    rows[35]["previous"] = True  # a boolean is not a count
    with pytest.raises(ValidationError) as info:
        ai.explain_batch("lead-scoring-v1", rows)
    named = {e.field for e in info.value.errors}
    assert named == {
        "rows[7].age",
        "rows[12].job",
        "rows[20].campaign",
        "rows[31].euribor3m",
        "rows[33].pdays",
        "rows[35].previous",
    }


def test_rows_with_other_fields_are_named(ai: Any) -> None:
    rows = table(ai, "lead-scoring-v1", 10)
    swapped = dict(rows[4])
    swapped["agee"] = swapped.pop("age")  # as many fields as rows[0], not the same ones
    with pytest.raises(ValidationError, match=r"rows\[4\]"):
        ai.explain_batch("lead-scoring-v1", [*rows[:4], swapped, *rows[5:]])
    short = {k: v for k, v in rows[6].items() if k != "job"}
    with pytest.raises(ValidationError, match=r"rows\[6\]"):
        ai.explain_batch("lead-scoring-v1", [*rows[:6], short, *rows[7:]])


FIELD = {"name": "n", "kind": "number", "minimum": 0, "maximum": 2**60, "integer": True, "train_min": 1.0}
FIELD["train_max"] = 100.0
COLUMNS = [
    [],
    [1, 2, 3],
    [1.0, 2.0, 150],
    [0, 2**60],
    [0, 2**60 + 1],  # past 2**53 its float equals the bound; the int does not
    [2**53 + 1, 5],
    [1, 2.5],
    [1, math.inf],
    [math.nan, 1],
    [-1, 3],
    [True, 1],
    [1, "2"],
    [None, 1],
    [10**400, 1],
    [np.float64(3.0), 4],
]


@pytest.mark.parametrize("col", COLUMNS, ids=range(len(COLUMNS)))
def test_column_checks_equal_the_value_by_value_checks(col: list[Any]) -> None:
    encoder = Encoder([FIELD], [{"field": "n", "kind": "standard", "mean": 0.0, "std": 1.0}])
    errors: list[FieldError] = []
    notes: dict[int, dict[str, Any]] = defaultdict(dict)
    got = encoder._check_number(FIELD, list(col), True, errors, notes)
    want_errors: list[FieldError] = []
    checked = [
        as_number(v, f"rows[{i}].n", want_errors, minimum=0, maximum=2**60, integer=True) for i, v in enumerate(col)
    ]
    assert errors == want_errors
    np.testing.assert_array_equal(got, np.clip(np.asarray(checked, dtype=float), 1.0, 100.0))
    # a column of plain numbers that all pass keeps its own values in the notes; else the checked ones
    shown = col if not want_errors and {*map(type, col)} <= {int, float} else checked
    clipped = {i: shown[i] for i, c in enumerate(checked) if not 1.0 <= c <= 100.0}
    assert {i: d["clipped"]["n"] for i, d in notes.items()} == clipped
