"""Forecast runner: per-series model selection and conformal intervals, fitted in numpy on the
history given with each request (``forecast_select``; the candidate methods are in ``forecast_models``).

Output: ``{"forecast": [{"period", "value", "lower", "upper"}]}`` with 95% bounds; ``metadata`` has the
chosen method, its cross-validated MASE, every candidate's, the 80% bounds and the season used. Each
value is also available as level + trend + season (``attribution``, with the history points behind
the level), which is how forecasts are explained.
Confidence = 100 / (1 + mean 95% half-width / mean |forecast|): narrow intervals, high confidence (the
half-width of a band that reaches further above than below is the mean of its two sides).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hotcrm_ai.errors import FieldError
from hotcrm_ai.types import PredictionOutput
from hotcrm_ai_plugins.runners.checks import as_number, check_rows, field_name, raise_if, show
from hotcrm_ai_plugins.runners.forecast_models import METHODS as SINGLE_METHODS
from hotcrm_ai_plugins.runners.forecast_select import MAX_HISTORY, Forecast, forecast, level_drivers
from hotcrm_ai_plugins.runners.options import ForecastOptions, runner_options

if TYPE_CHECKING:
    from hotcrm_ai.interfaces import Attribution

MAX_HORIZON = 366
MAX_SEASON = 366
MAX_INPUT = 100_000  # values accepted (the most recent 5,000 are fitted)
TOP_DRIVERS = 10  # history points listed as driving the level
METHODS = ("auto", *SINGLE_METHODS)  # parameters['method']; auto (selection by validation) is the default


def seasonal_naive(history: Sequence[float] | np.ndarray, horizon: int, m: int) -> np.ndarray:
    y = np.asarray(history, dtype=np.float64)
    m = max(1, m)
    last = y[-m:]
    return last[np.arange(horizon) % m]


class ForecastRunner:
    Options = ForecastOptions

    def __init__(self, artifact_dir: Path, parameters: Mapping[str, Any] | ForecastOptions) -> None:
        self.artifact_dir = Path(artifact_dir)
        self.method = runner_options(ForecastOptions, parameters).method

    def _inputs(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[np.ndarray, int, int | None]]:
        check_rows(rows)
        batch, errors, out = len(rows) > 1, [], []
        for i, row in enumerate(rows):
            name = lambda f, i=i: field_name(f, i, batch)  # noqa: E731
            hist = row.get("history")
            values = np.zeros(0)
            if not isinstance(hist, Sequence) or isinstance(hist, (str, bytes)):
                errors.append(FieldError(name("history"), "a list of numbers", show(hist)))
            elif len(hist) > MAX_INPUT:
                errors.append(FieldError(name("history"), f"at most {MAX_INPUT} numbers", str(len(hist))))
            else:
                local: list[FieldError] = []
                values = np.array([as_number(v, f"{name('history')}[{j}]", local) for j, v in enumerate(hist)])
                errors.extend(local[:5])
                if not local and len(values) < 2:
                    errors.append(FieldError(name("history"), "at least 2 numbers", f"{len(values)}"))
            horizon = row.get("horizon")
            h = (
                int(as_number(horizon, name("horizon"), errors, minimum=1, maximum=MAX_HORIZON, integer=True))
                if horizon is not None
                else 0
            )
            if horizon is None:
                errors.append(FieldError(name("horizon"), f"an integer 1-{MAX_HORIZON} (required)", "nothing"))
            m = row.get("season_length")
            season: int | None = None
            if m is not None:
                season = int(as_number(m, name("season_length"), errors, minimum=1, maximum=MAX_SEASON, integer=True))
                if season > 1 and len(values) >= 2 and len(values) < 2 * season:
                    errors.append(
                        FieldError(
                            name("history"),
                            f"at least 2 seasons ({2 * season} values) for season_length {season}",
                            f"{len(values)} values",
                        )
                    )
            out.append((values, h, season))
        raise_if(errors)
        return out

    def fit(self, rows: Sequence[Mapping[str, Any]]) -> list[Forecast]:
        """The validated rows' forecasts (refusing any that would not be finite)."""
        fits = []
        batch = len(rows) > 1
        for i, (values, horizon, season) in enumerate(self._inputs(rows)):
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                fc = forecast(values, horizon, season, self.method)
            widest = fc.intervals[0.95]
            # values near the float limit (e.g. +-1e308 alternating) can push an interval past it: refuse
            # rather than answer inf/NaN
            if not (
                np.isfinite(fc.value).all()
                and np.isfinite(fc.value + widest.above).all()
                and np.isfinite(fc.value - widest.below).all()
            ):
                largest = float(np.max(np.abs(values)))
                raise_if(
                    [
                        FieldError(
                            field_name("history", i, batch),
                            "numbers small enough for a finite forecast (|value| well below 1e308)",
                            f"values up to {largest:.3g}",
                        )
                    ]
                )
            fits.append(fc)
        return fits

    def predict_batch(self, rows: Sequence[Mapping[str, Any]]) -> list[PredictionOutput]:
        return [self._output(fc) for fc in self.fit(rows)]

    @staticmethod
    def _output(fc: Forecast) -> PredictionOutput:
        point, band, band80 = fc.value, fc.intervals[0.95], fc.intervals[0.8]
        lower, upper = point - band.below, point + band.above
        scale = float(np.mean(np.abs(point))) or 1.0
        confidence = 100.0 / (1.0 + float(np.mean(band.below + band.above)) / 2 / scale)
        return PredictionOutput(
            prediction={
                "forecast": [
                    {"period": k + 1, "value": float(point[k]), "lower": float(lower[k]), "upper": float(upper[k])}
                    for k in range(len(point))
                ]
            },
            confidence=round(min(100.0, max(0.0, confidence)), 2),
            metadata={
                "method": fc.method,
                "members": list(fc.members),
                "validation": fc.validation,
                "season_length": fc.season_length,
                "seasonal": fc.seasonal,
                "multiplicative": fc.multiplicative,
                "interval": 0.95,
                "interval_80": [
                    [float(a), float(b)] for a, b in zip(point - band80.below, point + band80.above, strict=True)
                ],
            },
        )

    def attribution(self, row: Mapping[str, Any]) -> Attribution:
        """Each forecast value as level + trend + season, exactly (the served values are these sums), and
        the history points that drive the level.

        The explained number is the mean forecast over the horizon; every period's own parts are in
        ``metadata['periods']``. ``level`` is where the method puts the series now, ``trend`` what its
        slope adds by that period, ``season`` what the seasonal pattern adds (or takes away).
        ``metadata['level_drivers']`` lists the history points with the largest weights in the level
        (``index`` into the history sent); where the level is a weighted sum of the points (naive,
        seasonal naive, SES, Theta, Naive2, ARIMA and their combinations) each point's ``contribution``
        is given and all of them add up to the level (``exact``). ETS's level also carries its slope and
        season estimates, so only its smoothing weights are given. A seasonal-naive value is one history
        point, named per period (``source``)."""
        from hotcrm_ai.interfaces import Attribution

        fc = self.fit([row])[0]
        level, trend, season, value = fc.parts.level, fc.parts.trend, fc.parts.season, fc.value
        history = np.asarray(row["history"], dtype=np.float64)
        used = history[-MAX_HISTORY:]
        offset = len(history) - len(used)
        periods: list[dict[str, Any]] = [
            {
                "period": k + 1,
                "value": float(value[k]),
                "level": float(level[k]),
                "trend": float(trend[k]),
                "season": float(season[k]),
            }
            for k in range(len(value))
        ]
        if fc.members == ("snaive",):
            m = max(1, min(fc.season_length, len(used)))
            for k, period in enumerate(periods):
                period["source"] = offset + len(used) - m + k % m
        found = level_drivers(used, fc)
        top = np.argsort(-found.weights, kind="stable")[:TOP_DRIVERS]
        points = [
            {
                "index": offset + int(i),
                "value": float(used[i]),
                "weight": float(found.weights[i]),
                **({"contribution": float(found.contributions[i])} if found.contributions is not None else {}),
            }
            for i in top
            if found.weights[i] > 0
        ]
        parts = {"level": float(level.mean()), "trend": float(trend.mean()), "season": float(season.mean())}
        return Attribution(
            output=float(value.mean()),
            base=0.0,
            contributions=parts,
            values={
                "level": round(parts["level"], 6),
                "trend": round(parts["trend"], 6),
                "season": round(parts["season"], 6),
            },
            labels={"level": "Level", "trend": "Trend", "season": "Season"},
            output_kind="value",
            explained=f"the mean of the {len(value)} forecast values",
            metadata={
                "periods": periods,
                "method": fc.method,
                "season_length": fc.season_length,
                "level_drivers": {
                    "exact": found.exact,
                    "weight_shown": float(found.weights[top].sum()),
                    "points": points,
                },
            },
        )

    def describe(self) -> dict[str, Any]:
        return {"method": self.method, "max_horizon": MAX_HORIZON, "artifact": None}
