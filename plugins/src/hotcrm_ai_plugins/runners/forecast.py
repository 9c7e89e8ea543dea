"""Forecast runner: the Theta method (Assimakopoulos & Nikolopoulos 2000, in Hyndman & Billah's form),
fitted in numpy on the history given with each request.

Steps: (1) seasonality: when ``season_length`` m > 1 is given (or detected, see below) and the
autocorrelation at lag m of the series or of its differences is significant at 90% (the classical
Theta test), the series is divided by
classical multiplicative seasonal indices (additive when any value is <= 0); (2) simple exponential
smoothing, alpha chosen by least squares on a grid, plus half the trend slope (theta = 2); the slope is
Theil-Sen's (median of pairwise slopes), so one level shift does not flip the trend;
(3) re-seasonalise. 95% intervals: the SES ones, ``sigma * sqrt(1 + (h - 1) alpha^2)`` from the
one-step residuals, widened to the RMS of the method's own h-step errors over the second half of the
history when those are larger (they usually are: the analytic formula ignores trend and season error).

Without ``season_length``, m is detected among 4, 6, 7, 12, 52: the candidate with the largest
significant autocorrelation of the differenced series (needs 3 seasons of history). Only the last 5,000 values are used.
Confidence = 100 / (1 + mean interval half-width / mean |forecast|): narrow intervals, high confidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hotcrm_ai.errors import FieldError
from hotcrm_ai.types import PredictionOutput
from hotcrm_ai_plugins.runners.checks import as_number, check_rows, field_name, raise_if, show

MAX_HORIZON = 366
MAX_SEASON = 366
MAX_HISTORY = 5000  # values fitted (the most recent)
MAX_INPUT = 100_000  # values accepted
CANDIDATE_SEASONS = (4, 6, 7, 12, 52)
Z95 = 1.959964
METHODS = ("theta", "damped", "comb")  # parameters['method']; theta is the measured default
_ALPHAS = np.linspace(0.01, 0.99, 99)


def acf(y: np.ndarray, lag: int) -> np.ndarray:
    d = y - y.mean()
    denom = float(d @ d)
    if denom == 0:
        return np.zeros(lag + 1)
    return np.array([float(d[k:] @ d[: len(d) - k]) / denom for k in range(lag + 1)])


def seasonal_significant(y: np.ndarray, m: int) -> tuple[bool, float]:
    """The Theta method's test: |r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / n)."""
    if m <= 1 or len(y) < 2 * m:
        return False, 0.0
    r = acf(y, m)
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(r[1:m] ** 2)) / len(y))
    return bool(abs(r[m]) > limit), float(r[m])


def detect_season(y: np.ndarray) -> int:
    """The candidate with the largest significant autocorrelation of the first differences (differencing
    removes the trend, which would otherwise make every lag look seasonal)."""
    best, best_r = 1, 0.0
    d = np.diff(y)
    for m in CANDIDATE_SEASONS:
        if len(d) >= 3 * m:
            ok, r = seasonal_significant(d, m)
            if ok and r > best_r:
                best, best_r = m, r
    return best


def seasonal_indices(y: np.ndarray, m: int, multiplicative: bool) -> np.ndarray:
    """Classical decomposition: centred moving average, then the mean ratio (or difference) per position."""
    n = len(y)
    w = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    trend = np.convolve(y, w, mode="valid")
    offset = (len(w) - 1) // 2
    detr = y[offset : offset + len(trend)] / trend if multiplicative else y[offset : offset + len(trend)] - trend
    pos = (np.arange(len(trend)) + offset) % m
    idx = np.array([detr[pos == k].mean() for k in range(m)])
    idx = idx / idx.mean() if multiplicative else idx - idx.mean()
    return idx[np.arange(n + MAX_HORIZON) % m]


def ses_fit(y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Alpha (grid least squares), final level and one-step residuals, for all alphas at once."""
    level = np.full(len(_ALPHAS), y[0])
    sse = np.zeros(len(_ALPHAS))
    for t in range(1, len(y)):
        err = y[t] - level
        sse += err * err
        level = level + _ALPHAS * err
    k = int(np.argmin(sse))
    alpha = float(_ALPHAS[k])
    lv, resid = y[0], np.empty(len(y) - 1)
    for t in range(1, len(y)):
        resid[t - 1] = y[t] - lv
        lv = lv + alpha * (y[t] - lv)
    return alpha, float(lv), resid


def empirical_spread(y: np.ndarray, alpha: float, slope: float, horizon: int) -> np.ndarray:
    """RMS of the method's own h-step errors from origins in the second half of the history (NaN where
    fewer than 5 origins): real multi-step errors, which the analytic SES formula understates."""
    n = len(y)
    levels = np.empty(n)
    lv = y[0]
    for i in range(n):
        lv = lv + alpha * (y[i] - lv) if i else lv
        levels[i] = lv
    out = np.full(horizon, np.nan)
    start = max(n // 2, 1) - 1
    for h in range(1, min(horizon, n - start - 5) + 1):
        t = np.arange(start, n - h)
        fc = levels[t] + 0.5 * slope * (h - 1 + 1 / alpha - (1 - alpha) ** (t + 1) / alpha)
        out[h - 1] = np.sqrt(np.mean((y[t + h] - fc) ** 2))
    return out


_GRID = np.array([(a, b, f) for a in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9) for b in (0.01, 0.05, 0.1, 0.2)
                  for f in (0.8, 0.9, 0.95, 0.98) if b <= a])


def damped_fit(y: np.ndarray) -> tuple[float, float, float, float, float, np.ndarray]:
    """Additive damped-trend Holt: (alpha, beta, phi) by least squares on a grid, all at once."""
    a, b, f = _GRID[:, 0], _GRID[:, 1], _GRID[:, 2]
    level = np.full(len(_GRID), y[0])
    trend = np.full(len(_GRID), y[1] - y[0] if len(y) > 1 else 0.0)
    sse = np.zeros(len(_GRID))
    for t in range(1, len(y)):
        pred = level + f * trend
        err = y[t] - pred
        sse += err * err
        new_level = pred + a * err
        trend = f * trend + a * b * err
        level = new_level
    k = int(np.argmin(sse))
    alpha, beta, phi = (float(v) for v in _GRID[k])
    lv, tr, resid = y[0], (y[1] - y[0] if len(y) > 1 else 0.0), np.empty(len(y) - 1)
    for t in range(1, len(y)):
        pred = lv + phi * tr
        resid[t - 1] = y[t] - pred
        lv, tr = pred + alpha * resid[t - 1], phi * tr + alpha * beta * resid[t - 1]
    return alpha, beta, phi, float(lv), float(tr), resid


def theil_sen(y: np.ndarray, limit: int = 400) -> float:
    """Median of pairwise slopes (over the last ``limit`` values): a trend that level shifts cannot drag."""
    y = y[-limit:]
    if len(y) < 2:
        return 0.0
    i, j = np.triu_indices(len(y), k=1)
    return float(np.median((y[j] - y[i]) / (j - i)))


def theta_forecast(history: Sequence[float] | np.ndarray, horizon: int, season_length: int | None,
                   method: str = "theta", robust: bool = True) -> dict[str, Any]:
    y = np.asarray(history, dtype=np.float64)[-MAX_HISTORY:]
    scale = float(np.max(np.abs(y))) or 1.0  # fit on a unit scale: no overflow for huge values
    y = y / scale
    n = len(y)
    m = detect_season(y) if season_length is None else int(season_length)
    # the classical test on the series, or on its differences (a strong trend hides the season in the first)
    seasonal = seasonal_significant(y, m)[0] or (n > 2 * m and seasonal_significant(np.diff(y), m)[0])
    multiplicative = bool(np.all(y > 0))
    if seasonal:
        s = seasonal_indices(y, m, multiplicative)
        ys = y / s[:n] if multiplicative else y - s[:n]
    else:
        ys = y
    alpha, level, resid = ses_fit(ys)
    t = np.arange(n)
    slope = theil_sen(ys) if robust else (float(np.polyfit(t, ys, 1)[0]) if n > 1 else 0.0)
    h = np.arange(1, horizon + 1)
    drift = 0.5 * slope * (h - 1 + 1 / alpha - (1 - alpha) ** n / alpha)
    point = level + drift
    sigma = float(np.sqrt(np.mean(resid**2))) if len(resid) else 0.0
    half = Z95 * sigma * np.sqrt(1 + (h - 1) * alpha**2)
    emp = Z95 * empirical_spread(ys, alpha, slope, horizon)
    if np.isfinite(emp).any():  # widen to the empirical errors; beyond them, keep the last ratio
        ratio = np.where(np.isfinite(emp), emp / np.where(half > 0, half, 1.0), np.nan)
        last = ratio[np.isfinite(ratio)][-1]
        half = half * np.maximum(1.0, np.where(np.isfinite(ratio), ratio, last))
    if method != "theta" and n >= 3:
        _, _, dphi, dl, dt, dres = damped_fit(ys)
        damp = np.cumsum(dphi ** h)
        dpoint = dl + damp * dt
        if method == "damped":
            point, resid = dpoint, dres
        else:  # "comb": mean of SES, theta and damped Holt (M4's robust Comb benchmark, with theta)
            point = (level + point + dpoint) / 3.0
            resid = (resid + dres) / 2.0
        sigma = float(np.sqrt(np.mean(resid**2))) if len(resid) else 0.0
        half = Z95 * sigma * np.sqrt(1 + (h - 1) * alpha**2)
    lower, upper = point - half, point + half
    if seasonal:
        fs = s[n : n + horizon]
        if multiplicative:
            point, lower, upper = point * fs, lower * fs, upper * fs
        else:
            point, lower, upper = point + fs, lower + fs, upper + fs
    point, lower, upper = point * scale, lower * scale, upper * scale
    return {"value": point, "lower": lower, "upper": upper, "season_length": m, "seasonal": seasonal,
            "multiplicative": seasonal and multiplicative, "alpha": alpha}


def seasonal_naive(history: Sequence[float] | np.ndarray, horizon: int, m: int) -> np.ndarray:
    y = np.asarray(history, dtype=np.float64)
    m = max(1, m)
    last = y[-m:]
    return last[np.arange(horizon) % m]


class ForecastRunner:
    def __init__(self, artifact_dir: Path, parameters: Mapping[str, Any]) -> None:
        self.artifact_dir = Path(artifact_dir)
        self.method = str(parameters.get("method", "theta"))
        if self.method not in METHODS:
            raise ValueError(f"parameters.method: expected one of {', '.join(METHODS)}, got {self.method!r}")

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
            h = int(as_number(horizon, name("horizon"), errors, minimum=1, maximum=MAX_HORIZON, integer=True)) \
                if horizon is not None else 0
            if horizon is None:
                errors.append(FieldError(name("horizon"), f"an integer 1-{MAX_HORIZON} (required)", "nothing"))
            m = row.get("season_length")
            season: int | None = None
            if m is not None:
                season = int(as_number(m, name("season_length"), errors, minimum=1, maximum=MAX_SEASON, integer=True))
                if season > 1 and len(values) >= 2 and len(values) < 2 * season:
                    errors.append(FieldError(name("history"), f"at least 2 seasons ({2 * season} values) "
                                             f"for season_length {season}", f"{len(values)} values"))
            out.append((values, h, season))
        raise_if(errors)
        return out

    def predict_batch(self, rows: Sequence[Mapping[str, Any]]) -> list[PredictionOutput]:
        outputs = []
        batch = len(rows) > 1
        for i, (values, horizon, season) in enumerate(self._inputs(rows)):
            with np.errstate(over="ignore", invalid="ignore"):
                fc = theta_forecast(values, horizon, season, self.method)
            point, lower, upper = fc["value"], fc["lower"], fc["upper"]
            # values near the float limit (e.g. +-1e308 alternating) can push an interval past it: refuse
            # rather than answer inf/NaN
            if not (np.isfinite(point).all() and np.isfinite(lower).all() and np.isfinite(upper).all()):
                largest = float(np.max(np.abs(values)))
                raise_if([FieldError(field_name("history", i, batch), "numbers small enough for a finite forecast "
                                     "(|value| well below 1e308)", f"values up to {largest:.3g}")])
            half = float(np.mean((upper - lower) / 2))
            scale = float(np.mean(np.abs(point))) or 1.0
            confidence = 100.0 / (1.0 + half / scale)
            outputs.append(PredictionOutput(
                prediction={"forecast": [{"period": k + 1, "value": float(point[k]), "lower": float(lower[k]),
                                          "upper": float(upper[k])} for k in range(horizon)]},
                confidence=round(min(100.0, max(0.0, confidence)), 2),
                metadata={"method": self.method, "season_length": fc["season_length"], "seasonal": fc["seasonal"],
                          "multiplicative": fc["multiplicative"], "alpha": fc["alpha"], "interval": 0.95}))
        return outputs

    def describe(self) -> dict[str, Any]:
        return {"method": self.method, "max_horizon": MAX_HORIZON, "artifact": None}
