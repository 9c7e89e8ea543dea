"""The five seed models as registered: seed ids/names/types, real schemas, measured metrics, small artifacts."""

from __future__ import annotations

import json
import subprocess
import sys

from support.models import metrics_json, models

from hotcrm_ai.types import ModelConfig
from hotcrm_ai_plugins.models import ARTIFACTS, default_models, ignored_fields

SEED = {
    "lead-scoring-v1": ("Lead Scoring Model", "classification"),
    "churn-prediction-v1": ("Churn Prediction Model", "classification"),
    "sentiment-analysis-v1": ("Sentiment Analysis", "nlp"),
    "revenue-forecast-v1": ("Revenue Forecasting", "forecasting"),
    "product-recommendation-v1": ("Product Recommendation", "recommendation"),
}


def test_five_seed_models_with_seed_identity() -> None:
    found = default_models()
    assert [m.id for m in found] == list(SEED)
    for m in found:
        assert isinstance(m, ModelConfig)
        assert (m.name, m.type) == SEED[m.id]
        assert (m.version, m.status, m.provider) == ("1.0.0", "active", "custom")
        assert m.features and m.description and m.tags and m.last_trained
        assert m.parameters["runner"]


def churn_feature(ms: dict, name: str):  # type: ignore[no-untyped-def]
    return ms["churn-prediction-v1"].feature(name)


def test_feature_names_are_the_data_set_columns_in_snake_case() -> None:
    ms = models()
    lead = {f.name for f in ms["lead-scoring-v1"].features}
    assert {"emp_var_rate", "cons_price_idx", "nr_employed", "poutcome", "age"} <= lead
    duration = ms["lead-scoring-v1"].feature("duration")  # leaks the answer: accepted, never used
    assert duration is not None and not duration.required and "ignored" in duration.description
    assert "duration" not in ms["lead-scoring-v1"].background[0]
    assert not churn_feature(ms, "gender").required and not churn_feature(ms, "customer_id").required
    churn = {f.name: f for f in ms["churn-prediction-v1"].features}
    assert {"streaming_tv", "payment_method", "senior_citizen", "tenure", "total_charges"} <= set(churn)
    assert churn["tenure"].minimum == 0
    assert churn["senior_citizen"].choices == (0, 1)
    assert "Electronic check" in churn["payment_method"].choices
    assert [f.name for f in ms["sentiment-analysis-v1"].features] == ["text"]
    assert [f.name for f in ms["revenue-forecast-v1"].features] == ["history", "horizon", "season_length"]
    assert [f.name for f in ms["product-recommendation-v1"].features] == ["products", "k"]


def test_registry_metrics_equal_metrics_json_and_meet_the_goals() -> None:
    raw, ms = metrics_json(), models()
    for model_id, m in ms.items():
        for field in ("accuracy", "precision", "recall", "f1", "roc_auc", "mae", "mse"):
            assert getattr(m.metrics, field) == raw[model_id].get(field)
    lead, churn = ms["lead-scoring-v1"].metrics, ms["churn-prediction-v1"].metrics
    sent = ms["sentiment-analysis-v1"].metrics
    assert lead.roc_auc >= 0.785 and lead.extra["base_rate"] < 0.2 and "brier" in lead.extra
    assert churn.roc_auc >= 0.84 and churn.accuracy >= 0.79
    assert sent.accuracy >= 0.85
    fc = raw["revenue-forecast-v1"]
    for name, series in fc["series"].items():  # every evaluation series, not just the primary ones
        assert series["mase"] < series["naive_mase"] and series["mase"] < series["snaive_mase"], name
    for name in fc["primary_series"]:
        assert 0.90 <= fc["series"][name]["coverage"] <= 0.98, name
    rec = raw["product-recommendation-v1"]
    assert rec["hit_rate_at_10"] >= 1.3 * rec["pop_hit_rate_at_10"]
    for m in ms.values():  # fractions, not percentages
        for v in (m.metrics.accuracy, m.metrics.precision, m.metrics.recall, m.metrics.f1, m.metrics.roc_auc):
            assert v is None or 0 <= v <= 1


def test_explain_output_and_background() -> None:
    ms = models()
    assert ms["lead-scoring-v1"].explain_output == "probability"
    assert ms["churn-prediction-v1"].explain_output == "probability"
    assert ms["sentiment-analysis-v1"].explain_output == "score"
    for model_id in ("lead-scoring-v1", "churn-prediction-v1"):
        bg = ms[model_id].background
        assert len(bg) == 50
        names = {f.name for f in ms[model_id].features} - ignored_fields(model_id)
        assert all(set(row) == names for row in bg)


def test_artifacts_are_small() -> None:
    total = sum(p.stat().st_size for p in ARTIFACTS.iterdir() if p.is_file())
    assert 0 < total < 10 * 1024 * 1024
    for name in json.loads((ARTIFACTS / "registry.json").read_text()).values():
        assert name["artifact"] == "" or (ARTIFACTS / name["artifact"]).exists()


def test_reading_the_models_imports_no_numpy() -> None:
    code = (
        "import sys; from hotcrm_ai_plugins.models import default_models; ms = default_models(); "
        "assert len(ms) == 5; print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
