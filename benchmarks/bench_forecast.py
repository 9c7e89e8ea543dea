"""Forecast request cost: CPU seconds per served ``revenue-forecast-v1`` request (per-series selection by
rolling-origin cross-validation, conformal intervals) against the same request with the method fixed to
automatic ETS (``parameters.method = "ets"``: its folds are still fitted, for the intervals, but no
other candidate is), the two alternating.

CPU time, not wall time: the machine is shared and the forecaster is single-threaded. The cache of
plain ETS fits (``forecast_models._plain_fit``) is cleared before every request, so a repeated request
pays what a new one does. Informative (no goal): the figure to compare is the ratio, and ours across
versions (``PYTHONPATH=<other tree>/plugins/src`` runs another version's forecaster).

    python benchmarks/bench_forecast.py [--data ../shared/data] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from hotcrm_ai_plugins.runners import forecast_models
from hotcrm_ai_plugins.runners.forecast import ForecastRunner
from hotcrm_ai_plugins.train.forecast import load_series

ROOT = Path(__file__).resolve().parents[1]


def _clear() -> None:
    cached = getattr(forecast_models, "_plain_fit", None)
    if cached is not None:
        cached.cache_clear()


def cpu_per_request(runner: ForecastRunner, row: dict[str, Any], number: int) -> float:
    start = time.process_time()
    for _ in range(number):
        _clear()
        runner.predict_batch([row])
    return (time.process_time() - start) / number


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    series = load_series(args.data)
    product = series.pop("_products")["table"][0]
    cases = {
        "cafe, 400 months, horizon 12": (series["auscafe_monthly"]["y"], 12, 12, 3),
        "cafe, 400 months, horizon 24": (series["auscafe_monthly"]["y"], 24, 12, 3),
        "retail, 271 trading days, horizon 34": (series["online_retail_daily"]["y"], 34, 6, 10),
        "one product, 44 weeks, horizon 8": (product, 8, 1, 50),
    }
    auto, single = ForecastRunner(Path("."), {}), ForecastRunner(Path("."), {"method": "ets"})
    print(f"forecaster: {forecast_models.__file__}")
    for name, (y, horizon, season, number) in cases.items():
        row = {"history": [float(v) for v in y], "horizon": horizon, "season_length": season}
        auto.predict_batch([row]), single.predict_batch([row])  # warm-up
        ours, base = [], []
        for _ in range(args.rounds):
            ours.append(cpu_per_request(auto, row, number))
            base.append(cpu_per_request(single, row, number))
        a, b = statistics.median(ours), statistics.median(base)
        print(
            f"{name:<40} selection {a * 1000:8.1f} ms CPU   ETS only {b * 1000:7.1f} ms CPU   ratio {a / b:6.1f}x"
            "  (informative)"
        )


if __name__ == "__main__":
    main()
