"""Evaluate the forecaster (nothing to fit offline: it selects and fits on the history given at prediction time).

Every forecast goes through the served runner (``ForecastRunner.predict_batch``, what ``predict`` on
``revenue-forecast-v1`` runs), under two protocols on the three series in ``forecasting/``:

- **rolling origin** (``series``): at each origin the forecaster sees only the past (its own model
  selection runs inside that past), forecasts ``horizon`` steps, and is scored against what followed;
  6-8 origins a horizon apart, so the score averages over several years of the series.
- **end holdout** (``holdout_end``): one origin, the later part of each series held back and forecast
  whole from the cutoff, as long as the part of each series kept aside for the independent evaluation
  (cafe 24 months, retail 34 trading days, weekly 8 weeks). One origin per series: a noisier figure
  that depends on what happened in those last months.

Both are scored next to the seasonal-naive and naive forecasts. Nothing is tuned on the held-back
values. MASE scales errors by the in-sample MAE of the seasonal-naive forecast at that origin (the
plain naive one for m = 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hotcrm_ai_plugins.runners.forecast import ForecastRunner, seasonal_naive

# the kept-aside continuation's length per series: the end-holdout protocol holds back as much
HOLDOUT_END = {"auscafe_monthly": 24, "online_retail_daily": 34, "sales_weekly_total": 8}
HOLDOUT_END_PRODUCTS = 8


class Served:
    """A forecast through the served runner: values, 95% and 80% bounds, and the method it chose."""

    def __init__(self, method: str = "auto") -> None:
        self.runner = ForecastRunner(Path("."), {"method": method})

    def __call__(self, train: np.ndarray, horizon: int, season: int | None) -> dict[str, Any]:
        row: dict[str, Any] = {"history": [float(v) for v in train], "horizon": horizon}
        if season is not None:
            row["season_length"] = season
        out = self.runner.predict_batch([row])[0]
        fc = out.prediction["forecast"]
        band80 = np.array(out.metadata["interval_80"], dtype=float)
        return {
            "value": np.array([f["value"] for f in fc]),
            "lower": np.array([f["lower"] for f in fc]),
            "upper": np.array([f["upper"] for f in fc]),
            "lower80": band80[:, 0],
            "upper80": band80[:, 1],
            "method": out.metadata["method"],
        }


def load_series(data_dir: Path) -> dict[str, dict[str, Any]]:
    import pandas as pd

    root = data_dir / "forecasting"
    cafe = pd.read_csv(root / "auscafe_monthly.csv")["turnover_aud_billion"].to_numpy(float)
    daily = pd.read_csv(root / "online_retail_daily_revenue.csv")["net_revenue"].to_numpy(float)
    weekly = pd.read_csv(root / "sales_weekly_w0-w43.csv").set_index("Product_Code")
    return {
        "auscafe_monthly": {
            "y": cafe,
            "m": 12,
            "horizon": 12,
            "origins": 6,
            "step": 12,
            "what": "Australian cafe/restaurant turnover, monthly (season 12)",
        },
        "online_retail_daily": {
            "y": daily,
            "m": 6,
            "horizon": 12,
            "origins": 8,
            "step": 12,
            "what": "online retailer net revenue per trading day (6-day week)",
        },
        "sales_weekly_total": {
            "y": weekly.sum(axis=0).to_numpy(float),
            "m": 1,
            "horizon": 4,
            "origins": 5,
            "step": 4,
            "what": "weekly units summed over 811 products (no season)",
        },
        "_products": {"table": weekly.to_numpy(float)},
    }


BASELINES = ("snaive", "naive")


def _scores(
    y: np.ndarray, m: int, horizon: int, origins: int, step: int, *, season: int | None, served: Served
) -> dict[str, Any]:
    """Scores averaged over ``origins`` cutoffs ``step`` apart, the last one ``horizon`` before the end."""
    n = len(y)
    keys = ("mae", "rmse", "mape", "mase")
    rows: dict[str, list[float]] = {p + k: [] for p in ("", "snaive_", "naive_") for k in keys}
    rows.update(coverage=[], coverage_80=[], chosen=[])
    for k in range(origins, 0, -1):
        cut = n - horizon - (k - 1) * step
        train, actual = y[:cut], y[cut : cut + horizon]
        fc = served(train, horizon, season)
        scale = np.mean(np.abs(train[m:] - train[:-m])) or 1.0
        nz = actual != 0
        for prefix, pred in (
            ("", fc["value"]),
            ("snaive_", seasonal_naive(train, horizon, m)),
            ("naive_", np.full(horizon, train[-1])),
        ):
            e = actual - pred
            rows[prefix + "mae"].append(float(np.mean(np.abs(e))))
            rows[prefix + "rmse"].append(float(np.sqrt(np.mean(e**2))))
            rows[prefix + "mape"].append(float(100 * np.mean(np.abs(e[nz] / actual[nz]))) if nz.any() else 0.0)
            rows[prefix + "mase"].append(float(np.mean(np.abs(e)) / scale))
        for key, suffix in (("coverage", ""), ("coverage_80", "80")):
            inside = (actual >= fc["lower" + suffix]) & (actual <= fc["upper" + suffix])
            rows[key].append(float(np.mean(inside)))
        rows["chosen"].append(fc["method"])
    chosen = rows.pop("chosen")
    out: dict[str, Any] = {k: float(np.mean(v)) for k, v in rows.items()}
    out.update({"origins": origins, "horizon": horizon, "season_length": m, "methods_chosen": chosen})
    return out


def evaluate_forecast(data_dir: Path, out: Path, *, sample: int | None = None) -> dict[str, Any]:
    series = load_series(data_dir)
    products = series.pop("_products")["table"]
    served = Served()
    per_series: dict[str, Any] = {}
    holdout: dict[str, Any] = {}
    for name, s in series.items():
        res = _scores(s["y"], s["m"], s["horizon"], s["origins"], s["step"], season=s["m"], served=served)
        if sample is None:  # the same with the season detected (skipped in quick checks)
            res["auto_season"] = _scores(
                s["y"], s["m"], s["horizon"], s["origins"], s["step"], season=None, served=served
            )["mase"]
        res["what"] = s["what"]
        res["n"] = len(s["y"])
        per_series[name] = res
        held = HOLDOUT_END[name]
        holdout[name] = _scores(s["y"], s["m"], held, 1, held, season=s["m"], served=served)
    # a quick check (--sample) looks at a twentieth as many products: each one is a full selection per origin
    table = products if sample is None else products[: max(10, sample // 20)]
    prod = [_scores(row, 1, 4, 3, 4, season=1, served=served) for row in table if np.std(row[:-4]) > 0]
    held = HOLDOUT_END_PRODUCTS
    prod_end = [_scores(row, 1, held, 1, held, season=1, served=served) for row in table if np.std(row[:-held]) > 0]

    def mean(key: str, rows: list[dict[str, Any]] = prod) -> float:
        return float(np.mean([p[key] for p in rows]))

    keys = ("mase", "snaive_mase", "naive_mase", "mae", "naive_mae", "coverage", "coverage_80")
    holdout["sales_weekly_per_product_mean"] = {
        **{k: mean(k, prod_end) for k in keys},
        "share_better_than_naive": float(np.mean([p["mase"] < p["naive_mase"] for p in prod_end])),
        "series": len(prod_end),
        "origins": 1,
        "horizon": held,
        "season_length": 1,
    }

    per_series["sales_weekly_per_product_mean"] = {
        **{k: mean(k) for k in keys},
        "share_better_than_naive": float(np.mean([p["mase"] < p["naive_mase"] for p in prod])),
        "series": len(prod),
        "origins": 3,
        "horizon": 4,
        "season_length": 1,
        "what": "each of the 811 weekly product series separately (mean over series)",
    }
    per_series["sales_weekly_total"]["note"] = (
        "the total has a level shift at week 25 (a third lower overnight); the weekly data set's own series "
        "are the 811 products (sales_weekly_per_product_mean)"
    )
    primary = ("auscafe_monthly", "online_retail_daily", "sales_weekly_per_product_mean")
    main = per_series["auscafe_monthly"]
    metrics = {
        "mae": main["mae"],
        "mse": main["rmse"] ** 2,
        "mase": {k: v["mase"] for k, v in per_series.items()},
        "snaive_mase": {k: v["snaive_mase"] for k, v in per_series.items()},
        "naive_mase": {k: v["naive_mase"] for k, v in per_series.items()},
        "coverage_95": {k: v["coverage"] for k, v in per_series.items()},
        "coverage_80": {k: v["coverage_80"] for k, v in per_series.items()},
        "beats_seasonal_naive": {k: v["mase"] < v["snaive_mase"] for k, v in per_series.items()},
        "beats_naive": {k: v["mase"] < v["naive_mase"] for k, v in per_series.items()},
        "primary_series": list(primary),
        "series": per_series,
        "holdout_end": {
            "protocol": (
                "one origin per series: the last 24 / 34 / 8 values held back (as long as the part "
                "kept aside for the independent evaluation) and forecast whole from the cutoff"
            ),
            "mase": {k: v["mase"] for k, v in holdout.items()},
            "snaive_mase": {k: v["snaive_mase"] for k, v in holdout.items()},
            "naive_mase": {k: v["naive_mase"] for k, v in holdout.items()},
            "coverage_95": {k: v["coverage"] for k, v in holdout.items()},
            "coverage_80": {k: v["coverage_80"] for k, v in holdout.items()},
            "series": holdout,
        },
        "note": (
            "mae/mse are those of auscafe_monthly (A$ bn); 'series' holds every series under the rolling-origin "
            "protocol, 'holdout_end' the single end holdout"
        ),
    }
    features = [
        {
            "name": "history",
            "dtype": "array",
            "items": "number",
            "description": "past values, oldest first (at least 2; at least 2 seasons when seasonal)",
        },
        {"name": "horizon", "dtype": "integer", "minimum": 1, "maximum": 366, "description": "periods to forecast"},
        {
            "name": "season_length",
            "dtype": "integer",
            "required": False,
            "minimum": 1,
            "maximum": 366,
            "description": "periods per season (12 monthly, 7 daily, 52 weekly); detected when absent",
        },
    ]
    background = [
        {
            "history": [round(float(v), 4) for v in series["auscafe_monthly"]["y"][-36:]],
            "horizon": 12,
            "season_length": 12,
        }
    ]
    return {"metrics": metrics, "artifact": "", "features": features, "background": background}
