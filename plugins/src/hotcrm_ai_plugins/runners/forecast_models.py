"""The candidate forecasting methods, in numpy, each returning its forecast as additive parts.

Every method takes a history ``y`` (already on a unit scale), a horizon ``H`` and a season length
``m`` and returns ``Parts``: ``level + trend + season == value`` at every step, so each forecast value
can be explained as the sum of the three (``season`` of a multiplicative model is ``(level + trend) *
(index - 1)``, the amount the season adds).

- ``naive``: the last value; ``snaive``: the value one season earlier; ``naive2``: the last seasonally
  adjusted value, re-seasonalised (the M4 competition's Naive2 benchmark).
- ``ses``: simple exponential smoothing of the seasonally adjusted series (classical decomposition).
- ``ets``: automatic ETS: additive errors, trend none / additive / damped, season none / additive /
  multiplicative, each form fitted by least squares over a parameter grid evaluated all at once, the
  form chosen by AICc (Hyndman et al. 2002). ``ets_log``: the same on log values (Box-Cox with lambda
  0) for positive series, so trend and season act multiplicatively. ``ets_robust``: the ETS form
  chosen for the plain fit, refitted with the robust filter of Gelper, Fried & Croux (2010) (one-step
  errors cut at 2 running scales), for series with isolated spikes.
- ``theta`` / ``theta3``: the Theta method (Hyndman & Billah's SES with drift, theta 2 and 3) on the
  seasonally adjusted series.
- ``arima``: ARIMA(p,1,0), with or without drift, p <= 3, chosen by AICc, fitted by conditional least
  squares on the seasonally adjusted series (no moving-average terms).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

CANDIDATE_SEASONS = (4, 6, 7, 12, 52)
_ALPHAS = np.linspace(0.01, 0.99, 99)


class Parts(NamedTuple):
    level: np.ndarray
    trend: np.ndarray
    season: np.ndarray

    @property
    def value(self) -> np.ndarray:
        return self.level + self.trend + self.season


class Adjust(NamedTuple):
    """Classical seasonal adjustment of one history: indices for history and horizon."""

    seasonal: bool
    multiplicative: bool
    factors: np.ndarray  # n + H values: factors (multiplicative) or offsets (additive)

    def remove(self, y: np.ndarray) -> np.ndarray:
        if not self.seasonal:
            return y
        s = self.factors[: len(y)]
        return y / s if self.multiplicative else y - s

    def parts(self, level: float, trend: np.ndarray, n: int) -> Parts:
        """Re-seasonalise a forecast of the adjusted series, as additive parts."""
        h = len(trend)
        lv = np.full(h, float(level))
        if not self.seasonal:
            return Parts(lv, trend, np.zeros(h))
        s = self.factors[n : n + h]
        season = (lv + trend) * (s - 1.0) if self.multiplicative else s.copy()
        return Parts(lv, trend, season)


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


def seasonal_indices(y: np.ndarray, m: int, multiplicative: bool, total: int) -> np.ndarray:
    """Classical decomposition: centred moving average, then the mean ratio (or difference) per position."""
    w = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    trend = np.convolve(y, w, mode="valid")
    offset = (len(w) - 1) // 2
    part = y[offset : offset + len(trend)]
    detr = part / trend if multiplicative else part - trend
    pos = (np.arange(len(trend)) + offset) % m
    idx = np.array([detr[pos == k].mean() if np.any(pos == k) else (1.0 if multiplicative else 0.0) for k in range(m)])
    idx = idx / idx.mean() if multiplicative else idx - idx.mean()
    return idx[np.arange(total) % m]


def adjustment(y: np.ndarray, m: int, horizon: int) -> Adjust:
    """Seasonally adjust when the lag-m autocorrelation of the series or of its differences is significant."""
    n = len(y)
    seasonal = m > 1 and n >= 2 * m + 1 and (seasonal_significant(y, m)[0] or seasonal_significant(np.diff(y), m)[0])
    if not seasonal:
        return Adjust(False, False, np.zeros(0))
    multiplicative = bool(np.all(y > 0))
    idx = seasonal_indices(y, m, multiplicative, n + horizon)
    if multiplicative and not np.all(idx > 0):
        multiplicative, idx = False, seasonal_indices(y, m, False, n + horizon)
    return Adjust(True, multiplicative, idx)


# -- simple methods ---------------------------------------------------------------------------


def naive(y: np.ndarray, horizon: int, m: int, adj: Adjust) -> Parts:
    h = np.zeros(horizon)
    return Parts(np.full(horizon, float(y[-1])), h, h.copy())


def snaive(y: np.ndarray, horizon: int, m: int, adj: Adjust) -> Parts:
    m = max(1, min(m, len(y)))
    last = y[-m:]
    value = last[np.arange(horizon) % m]
    level = float(last.mean())
    return Parts(np.full(horizon, level), np.zeros(horizon), value - level)


def naive2(y: np.ndarray, horizon: int, m: int, adj: Adjust) -> Parts:
    """The last seasonally adjusted value, re-seasonalised (M4's Naive2): follows a level shift at once
    while keeping the season."""
    return adj.parts(float(adj.remove(y)[-1]), np.zeros(horizon), len(y))


def ses_fit(y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Alpha (grid least squares, all alphas at once), final level and one-step residuals."""
    level = np.full(len(_ALPHAS), y[0])
    sse = np.zeros(len(_ALPHAS))
    for t in range(1, len(y)):
        err = y[t] - level
        sse += err * err
        level = level + _ALPHAS * err
    k = int(np.nanargmin(np.where(np.isfinite(sse), sse, np.inf))) if len(y) > 1 else 49
    alpha = float(_ALPHAS[k])
    lv, resid = float(y[0]), np.empty(max(len(y) - 1, 0))
    for t in range(1, len(y)):
        resid[t - 1] = y[t] - lv
        lv = lv + alpha * (y[t] - lv)
    return alpha, lv, resid


def ses(y: np.ndarray, horizon: int, m: int, adj: Adjust) -> Parts:
    _, level, _ = ses_fit(adj.remove(y))
    return adj.parts(level, np.zeros(horizon), len(y))


def _theta(y: np.ndarray, horizon: int, adj: Adjust, theta: float) -> Parts:
    ys = adj.remove(y)
    n = len(ys)
    alpha, level, _ = ses_fit(ys)
    slope = float(np.polyfit(np.arange(n), ys, 1)[0]) if n > 2 else 0.0
    h = np.arange(1, horizon + 1)
    drift = (1 - 1 / theta) * slope * (h - 1 + 1 / alpha - (1 - alpha) ** n / alpha)
    return adj.parts(level, drift, n)


def theta(y: np.ndarray, horizon: int, m: int, adj: Adjust) -> Parts:
    return _theta(y, horizon, adj, 2.0)


def theta3(y: np.ndarray, horizon: int, m: int, adj: Adjust) -> Parts:
    return _theta(y, horizon, adj, 3.0)


# -- ARIMA(p,1,0) -----------------------------------------------------------------------------


def _aicc(sse: float, n: int, k: int) -> float:
    if n - k - 1 <= 0 or not np.isfinite(sse):
        return np.inf
    return n * np.log(max(sse, 1e-300) / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def arima(y: np.ndarray, horizon: int, m: int, adj: Adjust) -> Parts:
    ys = adj.remove(y)
    z = np.diff(ys)
    best: tuple[float, np.ndarray, int, bool] = (np.inf, np.zeros(0), 0, False)
    span = len(z)
    for p in range(0, 4):
        if span - p < p + 6:
            break
        target = z[p:]
        lags = [z[p - i : span - i] for i in range(1, p + 1)]
        for drift in (False, True):
            cols = lags + ([np.ones(span - p)] if drift else [])
            if cols:
                x = np.column_stack(cols)
                coef, *_ = np.linalg.lstsq(x, target, rcond=None)
                resid = target - x @ coef
            else:
                coef, resid = np.zeros(0), target
            score = _aicc(float(resid @ resid), span - p, p + int(drift) + 1)
            if score < best[0]:
                best = (score, coef, p, drift)
    _, coef, p, drift = best
    hist = list(z[-p:]) if p else []
    steps = np.empty(horizon)
    for k in range(horizon):
        nxt = float(coef[p]) if drift else 0.0
        for i in range(p):
            nxt += float(coef[i]) * hist[-1 - i]
        steps[k] = nxt
        hist.append(nxt)
    return adj.parts(float(ys[-1]), np.cumsum(steps), len(y))


# -- ETS ---------------------------------------------------------------------------------------

_A = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
_B = (0.01, 0.05, 0.15)
_G = (0.01, 0.05, 0.1, 0.2, 0.35)
_PHI = (0.9, 0.95, 0.98, 1.0)
ETS_WINDOW = 480  # most recent values an ETS form is fitted on (bounds the cost of long histories)


def _grid(trend: bool, season: bool) -> np.ndarray:
    rows = [
        (a, b, g, f)
        for a in _A
        for b in (_B if trend else (0.0,))
        for g in (_G if season else (0.0,))
        for f in (_PHI if trend else (1.0,))
        if b <= a and g <= 1 - a
    ]
    return np.array(rows, dtype=float)


class EtsFit(NamedTuple):
    aicc: float
    level: float
    slope: float
    phi: float
    states: np.ndarray  # the m seasonal states (empty without season)
    season: str
    n: int
    alpha: float  # the level's smoothing weight
    trend: bool


def _clipped_square_mean(k: float) -> float:
    """E[min(Z^2, k^2)] for a standard normal Z: keeps the running scale of clipped errors unbiased."""
    density = math.exp(-k * k / 2) / math.sqrt(2 * math.pi)
    inside = math.erf(k / math.sqrt(2))
    return inside - 2 * k * density + k * k * (1 - inside)


ROBUST_CLIP = 2.0  # errors beyond this many running scales are cut (Huber's k)
_SCALE_RATE = 0.1  # how fast the running scale of the one-step errors follows them


def ets_form(y: np.ndarray, m: int, trend: bool, season: str, robust: bool = False) -> EtsFit:
    """One ETS form, parameters by least squares over the grid (vectorised across parameter sets).

    ``robust``: the robust Holt-Winters filter of Gelper, Fried & Croux (2010): each one-step error is
    cut at ``ROBUST_CLIP`` running scales before it updates the states or enters the squared-error
    criterion, so a one-day spike moves neither the level nor the season much."""
    n = len(y)
    grid = _grid(trend, season != "N")
    a, b, g, f = (grid[:, i] for i in range(4))
    if season != "N":
        l0 = float(y[:m].mean())
        s0 = seasonal_indices(y[: min(n, 4 * m)], m, season == "M", m)
        b0 = float(y[m : 2 * m].mean() - y[:m].mean()) / m if trend else 0.0
        s = np.tile(s0, (len(grid), 1))
    else:
        l0, b0 = float(y[0]), float(np.mean(np.diff(y[: min(n, 6)]))) if trend and n > 1 else 0.0
        s = np.zeros((len(grid), 1))
    level = np.full(len(grid), l0)
    slope = np.full(len(grid), b0)
    sse = np.zeros(len(grid))
    if robust:
        lag = m if season != "N" and n > m else 1
        d = y[lag:] - y[:-lag]
        mad = float(np.median(np.abs(d - np.median(d)))) if len(d) else 0.0
        sigma = np.full(len(grid), max(1.4826 * mad / math.sqrt(2), 1e-9 * (float(np.max(np.abs(y))) or 1.0)))
        kappa = _clipped_square_mean(ROBUST_CLIP)
    with np.errstate(all="ignore"):
        for t in range(n):
            damped = f * slope
            base = level + damped
            j = t % m
            sj = s[:, j] if season != "N" else 0.0
            e = y[t] - base * sj if season == "M" else y[t] - base - sj
            if robust:
                limit = ROBUST_CLIP * sigma
                sigma = np.sqrt(_SCALE_RATE * np.minimum(e * e, limit * limit) / kappa + (1 - _SCALE_RATE) * sigma**2)
                e = np.clip(e, -limit, limit)
            if season == "N":
                level, slope = base + a * e, damped + b * e
            elif season == "A":
                level, slope = base + a * e, damped + b * e
                s[:, j] = sj + g * e
            else:
                safe_s = np.where(np.abs(sj) > 1e-9, sj, 1e-9)
                safe_b = np.where(np.abs(base) > 1e-9, base, 1e-9)
                level, slope = base + a * e / safe_s, damped + b * e / safe_s
                s[:, j] = sj + g * e / safe_b
            sse += e * e
    sse = np.where(np.isfinite(sse), sse, np.inf)
    k = int(np.argmin(sse))
    params = 2 + (3 if trend else 0) + (m if season != "N" else 0)
    return EtsFit(
        _aicc(float(sse[k]), n, params),
        float(level[k]),
        float(slope[k]),
        float(f[k]),
        s[k].copy() if season != "N" else np.zeros(0),
        season,
        n,
        float(a[k]),
        trend,
    )


def ets_forms(y: np.ndarray, m: int) -> list[tuple[bool, str]]:
    seasons = ["N"]
    if m > 1 and len(y) >= 3 * m:
        seasons.append("A")
        if np.all(y > 0):
            seasons.append("M")
    return [(t, s) for s in seasons for t in (False, True) if len(y) >= (4 if t else 2)]


@functools.lru_cache(maxsize=16)
def _plain_fit(values: bytes, m: int) -> EtsFit:
    y = np.frombuffer(values, dtype=np.float64)
    return min((ets_form(y, m, t, s) for t, s in ets_forms(y, m)), key=lambda fit: fit.aicc)


def ets_fit(y: np.ndarray, m: int, robust: bool = False) -> EtsFit:
    """The ETS form with the lowest AICc, fitted on the most recent ``ETS_WINDOW`` values. The robust
    filter is applied to the form chosen for the plain fit (trend and season are the series' structure,
    spikes its noise), which costs one form instead of all: the plain fit of the same values is cached,
    as the selection fits both on every fold."""
    window = np.ascontiguousarray(y[-max(ETS_WINDOW, 4 * m) :], dtype=np.float64)
    plain = _plain_fit(window.tobytes(), m)
    return ets_form(window, m, plain.trend, plain.season, robust=True) if robust else plain


def _ets(y: np.ndarray, horizon: int, m: int, robust: bool) -> Parts:
    best = ets_fit(y, m, robust)
    h = np.arange(1, horizon + 1)
    damp = np.cumsum(best.phi**h)
    trend = best.slope * damp
    lv = np.full(horizon, best.level)
    if best.season == "N":
        return Parts(lv, trend, np.zeros(horizon))
    idx = best.states[(best.n + h - 1) % m]
    season = idx.copy() if best.season == "A" else (lv + trend) * (idx - 1.0)
    return Parts(lv, trend, season)


def ets(y: np.ndarray, horizon: int, m: int, adj: Adjust) -> Parts:
    return _ets(y, horizon, m, False)


def ets_robust(y: np.ndarray, horizon: int, m: int, adj: Adjust) -> Parts:
    """Automatic ETS with the robust filter: isolated spikes are cut to a few running scales."""
    return _ets(y, horizon, m, True)


def ets_log(y: np.ndarray, horizon: int, m: int, adj: Adjust) -> Parts:
    """Automatic ETS on log values (Box-Cox with lambda 0), back-transformed: a multiplicative trend and
    season for positive series; the median forecast (no bias adjustment). Parts split proportionally."""
    if not np.all(y > 0):
        return ets(y, horizon, m, adj)
    p = ets(np.log(y), horizon, m, adj)
    value = np.exp(p.value)
    level = np.exp(p.level)
    trend = np.exp(p.level + p.trend) - level
    return Parts(level, trend, value - level - trend)


Method = Callable[[np.ndarray, int, int, Adjust], Parts]

METHODS: dict[str, Method] = {
    "naive": naive,
    "snaive": snaive,
    "naive2": naive2,
    "ses": ses,
    "ets": ets,
    "ets_log": ets_log,
    "ets_robust": ets_robust,
    "theta": theta,
    "theta3": theta3,
    "arima": arima,
}


def candidates(n: int, m: int) -> list[str]:
    """Methods that can be fitted on ``n`` values with season ``m``."""
    names = ["naive", "ses", "theta", "theta3", "ets", "ets_robust", "ets_log"]
    if n >= 10:
        names.append("arima")
    if m > 1 and n >= m:
        names[1:1] = ["snaive", "naive2"]
    return names


# -- which history points drive the level -------------------------------------------------------


class Drivers(NamedTuple):
    """Each history point's weight in a method's level (weights sum to 1). ``contributions`` (weight times
    the point as the method sees it, seasonally adjusted where it adjusts) add up to the level exactly
    when the level is a weighted sum of the points (``exact``); otherwise it is None: the weights are
    those of the level's smoothing, and the level also carries slope and season estimates."""

    weights: np.ndarray
    contributions: np.ndarray | None

    @property
    def exact(self) -> bool:
        return self.contributions is not None


def exponential_weights(n: int, alpha: float) -> np.ndarray:
    """Simple exponential smoothing started at the first value: alpha (1 - alpha)^k on the point k steps
    back, the rest, (1 - alpha)^(n - 1), on the first."""
    w = alpha * (1 - alpha) ** np.arange(n - 1, -1, -1, dtype=float)
    w[0] = (1 - alpha) ** (n - 1)
    return w


def _last(n: int) -> np.ndarray:
    w = np.zeros(n)
    w[-1] = 1.0
    return w


def drivers(name: str, y: np.ndarray, m: int, adj: Adjust) -> Drivers:
    """The history points behind ``METHODS[name]``'s level on ``y``."""
    n = len(y)
    if name == "naive":
        return Drivers(_last(n), y * _last(n))
    if name == "snaive":
        k = max(1, min(m, n))
        w = np.r_[np.zeros(n - k), np.full(k, 1.0 / k)]
        return Drivers(w, w * y)
    seen = adj.remove(y)
    if name in ("naive2", "arima"):
        return Drivers(_last(n), seen * _last(n))
    if name in ("ses", "theta", "theta3"):
        w = exponential_weights(n, ses_fit(seen)[0])
        return Drivers(w, w * seen)
    # ETS: the level's own smoothing weights over the window it was fitted on
    robust = name == "ets_robust"
    logged = name == "ets_log" and bool(np.all(y > 0))
    fit = ets_fit(np.log(y) if logged else y, m, robust)
    w = np.r_[np.zeros(n - fit.n), exponential_weights(fit.n, fit.alpha)]
    plain = fit.season == "N" and fit.slope == 0.0 and not robust and not logged
    return Drivers(w, w * y if plain else None)
