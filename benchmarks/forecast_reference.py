"""statsforecast (Nixtla) under the two protocols of ``python -m hotcrm_ai_plugins.train --only forecast``.

Needs only statsforecast and pandas (install them in a throwaway venv: they are not our dependencies):

    python benchmarks/forecast_reference.py --data ../shared/data [--products 150]

Prints, per series and protocol, the MASE of AutoETS, AutoTheta, AutoARIMA, their equal-weight
combination and the seasonal-naive and naive forecasts, scaled exactly as ``train/forecast.py`` scales
them, plus the import and first-call times, so the numpy forecaster in ``runners/forecast_models.py``
can be compared with the reference implementation. Protocols:

- ``roll``: rolling origin (cafe 6 origins x 12 months, retail 8 x 12 trading days, weekly total
  5 x 4 weeks, each product 3 x 4 weeks), origins one horizon apart, the last one a horizon before the end;
- ``end``: one origin, the last 24 months / 34 trading days / 8 weeks held back and forecast whole
  (as long as the part of each series kept aside for the independent evaluation).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

Forecaster = Callable[[np.ndarray, int, int], np.ndarray]


def scores(y: np.ndarray, m: int, h: int, cuts: list[int], models: dict[str, Forecaster]) -> dict[str, float]:
    out: dict[str, list[float]] = {k: [] for k in [*models, "snaive", "naive"]}
    for cut in cuts:
        train, actual = y[:cut], y[cut : cut + h]
        scale = np.mean(np.abs(train[m:] - train[:-m])) or 1.0
        for key, model in models.items():
            out[key].append(float(np.mean(np.abs(actual - model(train, h, m))) / scale))
        out["snaive"].append(float(np.mean(np.abs(actual - train[-m:][np.arange(h) % m])) / scale))
        out["naive"].append(float(np.mean(np.abs(actual - train[-1])) / scale))
    return {k: float(np.mean(v)) for k, v in out.items()}


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
    classes = {"AutoETS": AutoETS, "AutoTheta": AutoTheta, "AutoARIMA": AutoARIMA}
    for name, cls in classes.items():
        t = time.perf_counter()
        cls(season_length=12).forecast(cafe[:-12], 12)
        print(f"{name} first call on the cafe series: {time.perf_counter() - t:.2f}s")

    def single(cls: type) -> Forecaster:
        return lambda train, h, m: np.asarray(cls(season_length=m).forecast(train, h)["mean"], dtype=float)

    def combination(train: np.ndarray, h: int, m: int) -> np.ndarray:
        return np.mean([single(cls)(train, h, m) for cls in classes.values()], axis=0)

    models: dict[str, Forecaster] = {name: single(cls) for name, cls in classes.items()}
    models["combination"] = combination
    # (values, season, rolling horizon, rolling origins, end holdout)
    series = {
        "auscafe_monthly": (cafe, 12, 12, 6, 24),
        "online_retail_daily": (daily, 6, 12, 8, 34),
        "sales_weekly_total": (weekly.sum(axis=0), 1, 4, 5, 8),
    }
    for name, (y, m, h, origins, held) in series.items():
        n = len(y)
        roll = scores(y, m, h, [n - h - k * h for k in range(origins - 1, -1, -1)], models)
        end = scores(y, m, held, [n - held], models)
        print(name, "roll", {k: round(v, 3) for k, v in roll.items()})
        print(name, "end ", {k: round(v, 3) for k, v in end.items()})
    for protocol, h, cuts in (("roll", 4, (12, 8, 4)), ("end ", 8, (8,))):
        rows = [r for r in weekly[: args.products] if np.std(r[: -max(cuts)]) > 0]
        per = [scores(r, 1, h, [len(r) - c for c in cuts], models) for r in rows]
        print(
            f"sales_weekly_per_product_mean (first {args.products}) {protocol}",
            {k: round(float(np.mean([p[k] for p in per])), 3) for k in per[0]},
        )


if __name__ == "__main__":
    main()
