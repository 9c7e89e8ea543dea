"""Offline training of the five CRM models (needs the ``train`` extra: scikit-learn, pandas, scipy).

    python -m hotcrm_ai_plugins.train --data ../shared/data --out plugins/src/hotcrm_ai_plugins/models/artifacts

Writes one artifact per model, ``metrics.json`` (held-out metrics, measured once) and
``registry.json`` (feature schemas, background rows, training date: what ``default_models()`` reads).
Seeded: two runs on the same data write the same files (apart from ``trained_at``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

from hotcrm_ai_plugins.train.common import write_json

MODELS = ("lead_scoring", "churn", "sentiment", "forecast", "recommendation")
MODEL_IDS = {
    "lead_scoring": "lead-scoring-v1",
    "churn": "churn-prediction-v1",
    "sentiment": "sentiment-analysis-v1",
    "forecast": "revenue-forecast-v1",
    "recommendation": "product-recommendation-v1",
}


def _train_one(name: str, data: Path, out: Path, sample: int | None) -> dict[str, Any]:
    if name in ("lead_scoring", "churn"):
        from hotcrm_ai_plugins.train.registry import tabular_features
        from hotcrm_ai_plugins.train.tabular import CHURN, LEAD, train_tabular

        result = train_tabular(LEAD if name == "lead_scoring" else CHURN, data, sample=sample)
        write_json(out / f"{name}.json", result["artifact"], compact=True)
        return {
            "metrics": result["metrics"],
            "selection": result["selection"],
            "artifact": f"{name}.json",
            "features": tabular_features(result["artifact"]),
            "background": result["background"],
        }
    if name == "sentiment":
        from hotcrm_ai_plugins.train.sentiment import train_sentiment

        return train_sentiment(data, out, sample=sample)
    if name == "forecast":
        from hotcrm_ai_plugins.train.forecast import evaluate_forecast

        return evaluate_forecast(data, out, sample=sample)
    from hotcrm_ai_plugins.train.recommend import train_recommendation

    return train_recommendation(data, out, sample=sample)


def run(
    data: Path, out: Path, *, only: tuple[str, ...] = MODELS, sample: int | None = None, quiet: bool = False
) -> dict[str, Any]:
    """Train ``only`` these models; merge into existing metrics/registry files in ``out``."""
    import json

    out.mkdir(parents=True, exist_ok=True)
    metrics_path, registry_path = out / "metrics.json", out / "registry.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    registry = json.loads(registry_path.read_text()) if registry_path.exists() else {}
    today = dt.date.today().isoformat()
    for name in only:
        started = time.perf_counter()
        result = _train_one(name, data, out, sample)
        model_id = MODEL_IDS[name]
        metrics[model_id] = {**result["metrics"], "selection": result.get("selection", [])}
        registry[model_id] = {
            "runner": name,
            "artifact": result["artifact"],
            "features": result["features"],
            "background": result.get("background", []),
            "trained_at": today,
            **({"sample": sample} if sample else {}),
        }
        if not quiet:
            shown = {k: v for k, v in result["metrics"].items() if not isinstance(v, (dict, list))}
            print(f"{model_id}: {time.perf_counter() - started:.1f}s {shown}")
    write_json(metrics_path, {k: metrics[k] for k in MODEL_IDS.values() if k in metrics})
    write_json(registry_path, {k: registry[k] for k in MODEL_IDS.values() if k in registry})
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hotcrm_ai_plugins.train", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder (see its README.md)")
    parser.add_argument("--out", type=Path, required=True, help="where artifacts, metrics.json, registry.json go")
    parser.add_argument("--only", nargs="*", choices=MODELS, default=list(MODELS))
    parser.add_argument("--sample", type=int, default=None, help="use a seeded subsample (quick checks only)")
    args = parser.parse_args(argv)
    run(args.data, args.out, only=tuple(args.only), sample=args.sample)
    return 0
