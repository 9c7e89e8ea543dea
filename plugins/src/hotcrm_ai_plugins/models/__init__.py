"""The five seed CRM models, as ``ModelConfig`` objects for the registry.

Cheap on purpose (it runs on every CLI start): reads two small JSON files that training wrote
(``artifacts/registry.json``: features, background rows, training date; ``artifacts/metrics.json``:
held-out metrics) and imports no numpy.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# id -> the product's name, type and description of each model, our output kind, tags
SEED: dict[str, dict[str, Any]] = {
    "lead-scoring-v1": {
        "name": "Lead Scoring Model",
        "type": "classification",
        "description": "ML-based lead quality prediction: logistic regression on the UCI Bank Marketing telemarketing "
        "leads (call duration excluded); returns score 0-100, label hot/warm/cold and the conversion probability.",
        "explain_output": "probability",
        "tags": ("sales", "lead", "scoring", "logistic-regression"),
    },
    "churn-prediction-v1": {
        "name": "Churn Prediction Model",
        "type": "classification",
        "description": "Customer churn risk prediction: logistic regression on IBM Telco Customer Churn; returns risk "
        "high/medium/low and the churn probability.",
        "explain_output": "probability",
        "tags": ("customer-success", "churn", "logistic-regression"),
    },
    "sentiment-analysis-v1": {
        "name": "Sentiment Analysis",
        "type": "nlp",
        "description": "Email and text sentiment analysis: logistic regression on word and character n-grams plus "
        "VADER scores, trained on the UCI Sentiment Labelled Sentences; returns positive/negative/neutral and "
        "score = P(positive).",
        "explain_output": "score",
        "tags": ("service", "nlp", "sentiment"),
    },
    "revenue-forecast-v1": {
        "name": "Revenue Forecasting",
        "type": "forecasting",
        "description": "Revenue and pipeline forecasting: ETS, Theta, ARIMA, naive methods or a combination, chosen "
        "per history by rolling-origin cross-validation, with conformal prediction intervals.",
        "explain_output": None,
        "tags": ("sales", "forecast", "theta"),
    },
    "product-recommendation-v1": {
        "name": "Product Recommendation",
        "type": "recommendation",
        "description": "Product and cross-sell recommendations: EASE item-item model trained on UCI Online Retail "
        "invoices; returns the top-k items not already bought.",
        "explain_output": None,
        "tags": ("sales", "recommendation", "cross-sell", "ease"),
    },
}

_METRIC_FIELDS = ("accuracy", "precision", "recall", "f1", "roc_auc", "mse", "mae")

# Columns of the source records that the models deliberately do not use. They are accepted (a CRM
# record maps without glue) and ignored, instead of being refused as unknown fields.
IGNORED: dict[str, tuple[dict[str, Any], ...]] = {
    "lead-scoring-v1": (
        {
            "name": "duration",
            "dtype": "number",
            "required": False,
            "minimum": 0,
            "description": "accepted and ignored: call duration is known only after the call (it leaks the outcome)",
        },
    ),
    "churn-prediction-v1": (
        {
            "name": "customer_id",
            "dtype": "string",
            "required": False,
            "description": "accepted and ignored: an identifier, not a signal",
        },
        {
            "name": "gender",
            "dtype": "string",
            "required": False,
            "description": "accepted and ignored: a protected attribute, left out of the model on purpose",
        },
    ),
}


def ignored_fields(model_id: str) -> frozenset[str]:
    """The accepted-but-unused input fields of a seed model (see ``IGNORED``)."""
    return frozenset(f["name"] for f in IGNORED.get(model_id, ()))


# Readable names for explanation text where the title-cased field name would read badly.
LABELS: dict[str, str] = {
    "emp_var_rate": "Employment Variation Rate",
    "cons_price_idx": "Consumer Price Index",
    "cons_conf_idx": "Consumer Confidence Index",
    "euribor3m": "Euribor 3-Month Rate",
    "nr_employed": "Number Employed",
    "pdays": "Days Since Last Contact",
    "poutcome": "Previous Outcome",
    "campaign": "Contacts This Campaign",
    "previous": "Previous Contacts",
    "default": "Credit In Default",
    "streaming_tv": "Streaming TV",
    "senior_citizen": "Senior Citizen",
    "tech_support": "Tech Support",
    "internet_service": "Internet Service",
    "payment_method": "Payment Method",
}


def _with_labels(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**f, "label": f.get("label") or LABELS.get(f["name"], "")} for f in features]


@lru_cache(maxsize=4)
def _read(path: str, mtime: float) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_json(name: str, directory: Path = ARTIFACTS) -> dict[str, Any]:
    path = directory / name
    if not path.exists():
        return {}
    return _read(str(path), path.stat().st_mtime)


def metrics_table(model_id: str, directory: Path = ARTIFACTS) -> dict[str, Any]:
    """The held-out metrics of one model as ModelMetrics fields (fractions 0-1) plus ``extra``."""
    raw = {k: v for k, v in read_json("metrics.json", directory).get(model_id, {}).items() if k != "selection"}
    out: dict[str, Any] = {k: raw.pop(k) for k in _METRIC_FIELDS if isinstance(raw.get(k), (int, float))}
    out["extra"] = raw
    return out


def default_models(directory: Path = ARTIFACTS) -> list[Any]:
    """ModelConfig for each seed model whose artifacts were trained (all five in a release)."""
    from hotcrm_ai.converter import structure
    from hotcrm_ai.types import ModelConfig
    from hotcrm_ai_plugins.models.examples import EXAMPLES

    registry = read_json("registry.json", directory)
    models = []
    for model_id, seed in SEED.items():
        entry = registry.get(model_id)
        if entry is None:
            continue
        data = {
            "id": model_id,
            "name": seed["name"],
            "type": seed["type"],
            "provider": "custom",
            "version": "1.0.0",
            "status": "active",
            "description": seed["description"],
            "features": _with_labels(list(entry["features"]) + [dict(f) for f in IGNORED.get(model_id, ())]),
            "parameters": {"runner": entry["runner"], "artifact": entry["artifact"], "example": EXAMPLES.get(model_id)},
            "metrics": metrics_table(model_id, directory),
            "explain_output": seed["explain_output"],
            "background": entry.get("background", []),
            "tags": list(seed["tags"]),
            "last_trained": entry.get("trained_at"),
        }
        models.append(structure(data, ModelConfig))
    return models
