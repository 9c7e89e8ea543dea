"""statsforecast (Nixtla) on the same rolling-origin holdouts as ``python -m hotcrm_ai_plugins.train``.

Needs only statsforecast and pandas (install them in a throwaway venv: they are not our dependencies):

    python benchmarks/forecast_reference.py --data ../shared/data [--products 150]

Prints, per series, the MASE of AutoETS, AutoTheta, AutoARIMA and seasonal naive, scaled exactly as
``train/forecast.py`` scales them, plus the import and first-call times, so the numpy forecaster
in ``runners/forecast_models.py`` can be compared with the reference implementation.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--products", type=int, default=150)
    args = parser.parse_args()
    started = time.perf_counter()
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    print(f"import statsforecast.models: {time.perf_counter() - started:.2f}s")
    root = args.data / "forecasting"
    cafe = pd.read_csv(root / "auscafe_monthly.csv")["turnover_aud_billion"].to_numpy(float)
    daily = pd.read_csv(root / "online_retail_daily_revenue.csv")["net_revenue"].to_numpy(float)
    weekly = pd.read_csv(root / "sales_weekly_w0-w43.csv").set_index("Product_Code").to_numpy(float)
    series = {"auscafe_monthly": (cafe, 12, 12, 6, 12), "online_retail_daily": (daily, 6, 12, 8, 12),
              "sales_weekly_total": (weekly.sum(axis=0), 1, 4, 5, 4)}
    models = {"AutoETS": AutoETS, "AutoTheta": AutoTheta, "AutoARIMA": AutoARIMA}
    for name, model in models.items():
        t = time.perf_counter()
        model(season_length=12).forecast(cafe[:-12], 12)
        print(f"{name} first call on the cafe series: {time.perf_counter() - t:.2f}s")

    def scores(y: np.ndarray, m: int, h: int, origins: int, step: int) -> dict[str, float]:
        out: dict[str, list[float]] = {k: [] for k in [*models, "snaive"]}
        for k in range(origins, 0, -1):
            cut = len(y) - h - (k - 1) * step
            train, actual = y[:cut], y[cut : cut + h]
            scale = np.mean(np.abs(train[m:] - train[:-m])) or 1.0
            for key, model in models.items():
                pred = model(season_length=m).forecast(train, h)["mean"]
                out[key].append(float(np.mean(np.abs(actual - pred)) / scale))
            out["snaive"].append(float(np.mean(np.abs(actual - train[-m:][np.arange(h) % m])) / scale))
        return {k: float(np.mean(v)) for k, v in out.items()}

    for name, (y, m, h, origins, step) in series.items():
        print(name, {k: round(v, 3) for k, v in scores(y, m, h, origins, step).items()})
    rows = [r for r in weekly[: args.products] if np.std(r[:-4]) > 0]
    per = [scores(r, 1, 4, 3, 4) for r in rows]
    print(f"sales_weekly_per_product_mean (first {args.products})",
          {k: round(float(np.mean([p[k] for p in per])), 3) for k in per[0]})


if __name__ == "__main__":
    main()
