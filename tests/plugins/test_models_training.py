"""Training is seeded and reproducible (on small slices, to stay quick), and its pure parts are right."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from support.models import DATA

from hotcrm_ai_plugins.train import run
from hotcrm_ai_plugins.train.common import snake, stratified_split


def test_snake_case_names() -> None:
    assert [
        snake(n)
        for n in (
            "emp.var.rate",
            "StreamingTV",
            "PaymentMethod",
            "SeniorCitizen",
            "tenure",
            "customerID",
            "nr.employed",
            "MonthlyCharges",
        )
    ] == [
        "emp_var_rate",
        "streaming_tv",
        "payment_method",
        "senior_citizen",
        "tenure",
        "customer_id",
        "nr_employed",
        "monthly_charges",
    ]


def test_stratified_split_is_seeded_disjoint_and_balanced() -> None:
    y = np.array([0] * 900 + [1] * 100)
    a = stratified_split(y, (0.6, 0.2, 0.2), 7)
    b = stratified_split(y, (0.6, 0.2, 0.2), 7)
    assert all(np.array_equal(x, z) for x, z in zip(a, b, strict=True))
    assert sum(len(x) for x in a) == 1000 and len(np.unique(np.concatenate(a))) == 1000
    assert [int(y[x].sum()) for x in a] == [60, 20, 20]


def _train(out: Path) -> None:
    run(DATA, out, only=("churn", "sentiment", "forecast"), sample=600, quiet=True)


def test_training_on_a_slice_is_reproducible(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _train(first)
    _train(second)
    for name in ("churn.json", "sentiment.json.gz"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    m1 = json.loads((first / "metrics.json").read_text())
    m2 = json.loads((second / "metrics.json").read_text())
    assert m1 == m2
    assert set(m1) == {"churn-prediction-v1", "sentiment-analysis-v1", "revenue-forecast-v1"}
    churn = m1["churn-prediction-v1"]
    assert churn["n_test"] == 120 and 0.5 < churn["roc_auc"] <= 1
    assert {"accuracy", "precision", "recall", "f1", "roc_auc", "brier", "base_rate"} <= set(churn)


def test_sliced_artifacts_serve_through_the_provider(tmp_path: Path) -> None:
    from hotcrm_ai.types import PredictionInput, ProviderConfig
    from hotcrm_ai_plugins.custom import CustomProvider
    from hotcrm_ai_plugins.models import default_models
    from hotcrm_ai_plugins.models.examples import CHURN_HIGH

    _train(tmp_path)
    ms = {m.id: m for m in default_models(tmp_path)}
    assert set(ms) == {"churn-prediction-v1", "sentiment-analysis-v1", "revenue-forecast-v1"}
    p = CustomProvider(ProviderConfig("custom", config={"artifact_dir": str(tmp_path)}))
    out = p.predict(ms["churn-prediction-v1"], PredictionInput(CHURN_HIGH))
    assert out.prediction["risk"] in ("high", "medium", "low")
    assert p.validate() is True


@pytest.mark.parametrize("name", ["lead_scoring", "recommendation"])
def test_large_data_trainers_run_on_a_slice(tmp_path: Path, name: str) -> None:
    sample = 1500 if name == "lead_scoring" else 300
    metrics = run(DATA, tmp_path / "a", only=(name,), sample=sample, quiet=True)
    got = next(iter(metrics.values()))
    key = "roc_auc" if name == "lead_scoring" else "hit_rate_at_10"
    assert 0 < got[key] <= 1
    if name == "recommendation":  # the npz is byte-reproducible too
        run(DATA, tmp_path / "b", only=(name,), sample=sample, quiet=True)
        first, second = (tmp_path / d / "recommendation.npz" for d in "ab")
        assert first.read_bytes() == second.read_bytes()
