"""Numeric helpers for CRM scoring: confidence, normalisation, sigmoid, similarity, spread, outliers,
correlation, smoothing, trend, scaling and one-dimensional k-means, on numpy.

Every function keeps the formulas and edge cases of the TypeScript version this replaces (empty
input, zero variance, the k-means seeding and tie rule, the quartile indices of ``detect_outliers``;
``docs/utils.md`` has them). Where we deliberately differ, the function's docstring says so; the
differences in short:

* NaN and +/-infinity are rejected with ``ValidationError`` (a ``ValueError``) naming the argument,
  where JS silently propagated NaN. So are wrong types, length mismatches, ``window <= 0`` and an
  ``alpha`` outside (0, 1].
* Nothing overflows: ``sigmoid`` of a very negative number is 0 (as in JS; Python's ``math.exp``
  would raise), and the scale-invariant functions (cosine similarity, standard deviation, z-scores,
  min-max scaling, Pearson correlation) scale their input by a power of two first. That scaling is
  exact in binary floating point, so ordinary inputs give bit-for-bit the plain formula's result,
  while inputs near 1e308 or 1e-308 no longer turn into inf/0 and then NaN.
* A constant series has exactly zero spread (the mean of ``[0.1, 0.1, 0.1]`` is not exactly 0.1 in
  floating point, which made the JS report a tiny non-zero deviation and z-scores of +/-1).

Sums use numpy's (pairwise) summation, so results can differ from the JS loop in the last bits.
numpy is imported here, not by ``import hotcrm_ai``: import this module when you need it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

from hotcrm_ai.errors import FieldError, ValidationError

__all__ = [
    "calculate_confidence",
    "calculate_trend",
    "cosine_similarity",
    "detect_outliers",
    "exponential_smoothing",
    "k_means_clustering",
    "min_max_scale",
    "moving_average",
    "normalize_score",
    "pearson_correlation",
    "sigmoid",
    "standard_deviation",
    "weighted_average",
    "z_score_normalize",
]

Trend = Literal["increasing", "decreasing", "stable"]

TREND_THRESHOLD = 0.01  # absolute slope per step (units of the data): flatter than this is "stable"
K_MEANS_MAX_ITERATIONS = 100
K_MEANS_MAX_K = 1_000_000  # the output has exactly k entries: refuse absurd k rather than exhaust memory
_BLOCK = 1 << 22  # k-means distance matrix cells per block (bounds memory for large n x k)


# -- validation ---------------------------------------------------------------------------------


def _bad(func: str, field: str, expected: str, got: Any = None) -> ValidationError:
    shown = "" if got is None else (got if isinstance(got, str) else repr(got))
    return ValidationError([FieldError(field=field, expected=expected, got=shown[:80])], subject=f"{func} arguments")


def _number(value: Any, func: str, field: str) -> float:
    """A finite real number (bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _bad(func, field, "a finite number", type(value).__name__)
    try:
        out = float(value)
    except OverflowError:  # a Python int beyond float range (10**400) is not a finite float
        raise _bad(func, field, "a finite number", f"{type(value).__name__} out of float range") from None
    if not math.isfinite(out):
        raise _bad(func, field, "a finite number", out)
    return out


def _integer(value: Any, func: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _bad(func, field, "an integer", type(value).__name__)
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    if math.isfinite(number) and number.is_integer():
        return int(number)
    raise _bad(func, field, "an integer", value)


def _vector(values: Any, func: str, field: str = "values") -> NDArray[np.float64]:
    """A flat float64 array of finite numbers, or a ``ValidationError`` naming ``field``."""
    if isinstance(values, (str, bytes, Mapping)) or values is None:
        raise _bad(func, field, "a sequence of numbers", type(values).__name__)
    if not isinstance(values, (np.ndarray, Sequence)):
        if not isinstance(values, Iterable):
            raise _bad(func, field, "a sequence of numbers", type(values).__name__)
        values = list(values)
    arr = np.asarray(values)
    if arr.dtype.kind == "O":
        for i, item in enumerate(arr.ravel()):
            if isinstance(item, bool) or not isinstance(item, numbers.Real):
                raise _bad(func, f"{field}[{i}]", "a number", type(item).__name__)
            try:
                float(item)
            except OverflowError:  # huge Python ints: a typed error, not numpy's OverflowError
                raise _bad(func, f"{field}[{i}]", "a finite number", "int out of float range") from None
        arr = arr.astype(np.float64)
    elif arr.dtype.kind not in "iuf":
        raise _bad(func, field, "a sequence of numbers", f"array of {arr.dtype}")
    if arr.ndim != 1:
        raise _bad(func, field, "a flat (1-D) sequence of numbers", f"shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if arr.size and not np.isfinite(arr).all():
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise _bad(func, f"{field}[{i}]", "a finite number", float(arr[i]))
    return arr


def _exponent(arr: NDArray[np.float64]) -> int:
    """The binary exponent of the largest magnitude in ``arr`` (0 for an empty or all-zero array)."""
    if arr.size == 0:
        return 0
    peak = float(np.max(np.abs(arr)))
    return math.frexp(peak)[1] if peak else 0


def _pow2_scale(arr: NDArray[np.float64]) -> NDArray[np.float64]:
    """``arr`` divided by the power of two at its largest magnitude: |values| <= 1, nothing rounded.

    Multiplying by a power of two is exact in binary floating point (barring subnormals), so every
    scale-invariant formula gives the same bits on the scaled array, minus the overflow.
    """
    exponent = _exponent(arr)
    return np.ldexp(arr, -exponent) if exponent else arr


def _is_constant(arr: NDArray[np.float64]) -> bool:
    return arr.size == 0 or bool(arr.min() == arr.max())


# -- scoring ------------------------------------------------------------------------------------


def calculate_confidence(sample_size: float, data_quality: float, model_accuracy: float = 80.0) -> float:
    """Confidence (0-100) from model accuracy, sample size and data quality (both 0-100).

    ``sf = min(1, log10(sample_size + 1) / 2)``; ``c = model_accuracy * (0.7 + 0.3 sf) * data_quality / 100``,
    clamped to [0, 100]. The sample factor saturates at ``sample_size >= 99``; ``sample_size == 0``
    keeps 70 %. Example: ``(100, 85, 90) -> 76.5``.

    Differs from the JS: a negative ``sample_size`` is rejected (JS clamped -1 to 0 and returned NaN
    below -1), as are NaN and infinities.
    """
    func = "calculate_confidence"
    n = _number(sample_size, func, "sample_size")
    quality = _number(data_quality, func, "data_quality")
    accuracy = _number(model_accuracy, func, "model_accuracy")
    if n < 0:
        raise _bad(func, "sample_size", "a number >= 0", n)
    sample_factor = min(1.0, math.log10(n + 1) / 2)
    confidence = accuracy
    confidence *= 0.7 + sample_factor * 0.3
    confidence *= quality / 100
    return min(100.0, max(0.0, confidence))


@overload
def normalize_score(value: float, min_value: float, max_value: float) -> float: ...
@overload
def normalize_score(
    value: Sequence[float] | NDArray[Any], min_value: float, max_value: float
) -> NDArray[np.float64]: ...


def normalize_score(value: Any, min_value: float, max_value: float) -> float | NDArray[np.float64]:
    """Map ``value`` from [min_value, max_value] to 0-100, clamped; 50 when the range is empty.

    ``value`` may be a number (returns a float) or a sequence/array (returns an array).
    Example: ``(75, 0, 150) -> 50``.
    """
    func = "normalize_score"
    lo = _number(min_value, func, "min_value")
    hi = _number(max_value, func, "max_value")
    scalar = isinstance(value, numbers.Real) and not isinstance(value, bool)
    arr = np.asarray([_number(value, func, "value")]) if scalar else _vector(value, func, "value")
    if hi == lo:
        out = np.full_like(arr, 50.0)
    else:
        # halving every term is exact and keeps a range wider than a double finite
        half = not math.isfinite(hi - lo)
        a, lo_, hi_ = (arr / 2, lo / 2, hi / 2) if half else (arr, lo, hi)
        out = np.clip((a - lo_) / (hi_ - lo_) * 100, 0.0, 100.0)
    return float(out[0]) if scalar else out


def weighted_average(items: Iterable[Mapping[str, float] | Sequence[float]]) -> float:
    """``sum(value * weight) / sum(weight)``; 0 when the weights sum to 0 (including no items).

    Items are ``{"value": v, "weight": w}`` mappings or ``(value, weight)``
    pairs. README example: ``[(80, .3), (90, .5), (70, .2)] -> 83``.
    """
    func = "weighted_average"
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise _bad(func, "items", "a sequence of {value, weight} items or (value, weight) pairs", type(items).__name__)
    values: list[float] = []
    weights: list[float] = []
    for i, item in enumerate(items):
        if isinstance(item, Mapping):
            for key in ("value", "weight"):
                if key not in item:
                    raise _bad(func, f"items[{i}].{key}", "a number (key is missing)")
            v, w = item["value"], item["weight"]
        elif isinstance(item, (Sequence, np.ndarray)) and not isinstance(item, (str, bytes)) and len(item) == 2:
            v, w = item
        else:
            raise _bad(func, f"items[{i}]", "a {value, weight} mapping or a (value, weight) pair", type(item).__name__)
        values.append(_number(v, func, f"items[{i}].value"))
        weights.append(_number(w, func, f"items[{i}].weight"))
    if not values:
        return 0.0
    v_arr = np.asarray(values)
    w_arr = np.asarray(weights)
    total = float(w_arr.sum())
    if total == 0:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        result = float(np.dot(v_arr, w_arr)) / total
    if not math.isfinite(result):  # products overflowed: divide the weights first (same value)
        result = float(np.dot(v_arr, w_arr / total))
    return result


@overload
def sigmoid(x: float) -> float: ...
@overload
def sigmoid(x: Sequence[float] | NDArray[Any]) -> NDArray[np.float64]: ...


def sigmoid(x: Any) -> float | NDArray[np.float64]:
    """``1 / (1 + e^-x)`` for a number (returns a float) or a sequence/array (returns an array).

    ``1 / (1 + e^-x)``, evaluated without overflow: for x below about -709, ``e^-x`` exceeds a
    double and the result is 0, exactly what JS's ``Math.exp`` (returning Infinity) gave.
    """
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        value = _number(x, "sigmoid", "x")
        try:
            return 1 / (1 + math.exp(-value))
        except OverflowError:
            return 0.0
    arr = _vector(np.asarray(x).ravel() if isinstance(x, np.ndarray) else x, "sigmoid", "x")
    with np.errstate(over="ignore"):
        out = 1 / (1 + np.exp(-arr))
    return out.reshape(np.shape(x)) if isinstance(x, np.ndarray) else out


# -- similarity and statistics ------------------------------------------------------------------


def cosine_similarity(a: Sequence[float] | NDArray[Any], b: Sequence[float] | NDArray[Any]) -> float:
    """``a . b / (|a| |b|)``; 0 when either vector has zero norm (including empty vectors).

    Vectors of different lengths raise "Vectors must have same length".
    Example: ``([1,2,3,4], [2,3,4,5]) -> 0.993808``.
    """
    func = "cosine_similarity"
    va = _vector(a, func, "a")
    vb = _vector(b, func, "b")
    if va.size != vb.size:
        raise _bad(func, "b", f"the length of a ({va.size}) (Vectors must have same length)", f"length {vb.size}")
    va, vb = _pow2_scale(va), _pow2_scale(vb)
    norm_a = float(np.dot(va, va))
    norm_b = float(np.dot(vb, vb))
    if norm_a == 0 or norm_b == 0:
        return 0.0
    return float(np.dot(va, vb)) / (math.sqrt(norm_a) * math.sqrt(norm_b))


def standard_deviation(values: Sequence[float] | NDArray[Any]) -> float:
    """Population standard deviation (divides by n); 0 for an empty or constant series.

    Example: ``[2, 4, 4, 4, 5, 5, 7, 9] -> 2``.
    """
    arr = _vector(values, "standard_deviation")
    if _is_constant(arr):
        return 0.0
    exponent = _exponent(arr)
    return math.ldexp(float(np.std(np.ldexp(arr, -exponent))), exponent)


def detect_outliers(values: Sequence[float] | NDArray[Any]) -> dict[str, Any]:
    """IQR outliers: ``{"outliers": [...], "threshold": {"lower": l, "upper": u}}``.

    Quartiles are read without interpolation at ``sorted[floor(0.25 n)]`` and ``sorted[floor(0.75 n)]``;
    bounds are ``q1 - 1.5 iqr`` and ``q3 + 1.5 iqr``; outliers are the values strictly outside, in input
    order. Fewer than 4 values: no outliers and both bounds 0.
    Example: ``[10,12,11,13,100,14,12,11] -> outliers [100], bounds 6.5 / 18.5``.
    """
    arr = _vector(values, "detect_outliers")
    n = arr.size
    if n < 4:
        return {"outliers": [], "threshold": {"lower": 0.0, "upper": 0.0}}
    ordered = np.sort(arr)
    q1 = float(ordered[math.floor(n * 0.25)])
    q3 = float(ordered[math.floor(n * 0.75)])
    iqr = q3 - q1
    lower = q1 - 1.5 * iqr
    upper = q3 + 1.5 * iqr
    mask = (arr < lower) | (arr > upper)
    return {"outliers": arr[mask].tolist(), "threshold": {"lower": lower, "upper": upper}}


def pearson_correlation(x: Sequence[float] | NDArray[Any], y: Sequence[float] | NDArray[Any]) -> float:
    """``sum(dx dy) / sqrt(sum(dx^2) sum(dy^2))``; 0 when either series is constant.

    Different or zero lengths raise "Arrays must have same non-zero length".
    The denominator is taken as ``sqrt(sum dx^2) * sqrt(sum dy^2)`` so the product cannot underflow.
    """
    func = "pearson_correlation"
    vx = _vector(x, func, "x")
    vy = _vector(y, func, "y")
    if vx.size != vy.size or vx.size == 0:
        expected = f"the length of x ({vx.size}), non-zero (Arrays must have same non-zero length)"
        raise _bad(func, "y", expected, f"length {vy.size}")
    if _is_constant(vx) or _is_constant(vy):
        return 0.0
    vx, vy = _pow2_scale(vx), _pow2_scale(vy)
    dx = vx - vx.mean()
    dy = vy - vy.mean()
    den_x = float(np.dot(dx, dx))
    den_y = float(np.dot(dy, dy))
    if den_x == 0 or den_y == 0:
        return 0.0
    return float(np.dot(dx, dy)) / (math.sqrt(den_x) * math.sqrt(den_y))


# -- time series ---------------------------------------------------------------------------------


def moving_average(values: Sequence[float] | NDArray[Any], window: int) -> list[float]:
    """Trailing moving average, same length as the input; the first ``window - 1`` are partial means.

    ``result[i] = mean(values[max(0, i - window + 1) .. i])``. Example: ``([1,2,3,4,5], 3) -> [1,1.5,2,3,4]``.
    Differs from the JS: ``window <= 0`` is rejected (JS averaged an empty window into NaN).
    """
    func = "moving_average"
    arr = _vector(values, func)
    w = _integer(window, func, "window")
    if w < 1:
        raise _bad(func, "window", "an integer >= 1", w)
    n = arr.size
    if n == 0:
        return []
    exponent = _exponent(arr)  # means scale exactly by powers of two: no overflow of the window sums
    scaled = np.ldexp(arr, -exponent)
    head = min(w - 1, n)
    out = np.empty(n)
    if head:
        out[:head] = np.cumsum(scaled[:head]) / np.arange(1, head + 1)
    if n >= w:
        out[head:] = np.lib.stride_tricks.sliding_window_view(scaled, w).mean(axis=1)
    return np.ldexp(out, exponent).tolist()


def exponential_smoothing(values: Sequence[float] | NDArray[Any], alpha: float = 0.3) -> list[float]:
    """``s0 = v0``, ``s_i = alpha v_i + (1 - alpha) s_{i-1}``. Example: ``[10, 20, 30] -> [10, 13, 18.1]``.

    Differs from the JS: ``alpha`` must lie in (0, 1] (JS accepted any number).
    """
    func = "exponential_smoothing"
    arr = _vector(values, func)
    a = _number(alpha, func, "alpha")
    if not 0 < a <= 1:
        raise _bad(func, "alpha", "a number in (0, 1]", a)
    if arr.size == 0:
        return []
    data = arr.tolist()
    result = [data[0]]
    previous = data[0]
    keep = 1 - a
    for v in data[1:]:  # a recurrence: a plain loop over floats beats numpy here
        previous = a * v + keep * previous
        result.append(previous)
    return result


def calculate_trend(values: Sequence[float] | NDArray[Any]) -> Trend:
    """Sign of the least-squares slope of ``values`` against 0..n-1, with an absolute dead band of 0.01.

    ``> 0.01`` -> "increasing", ``< -0.01`` -> "decreasing", else (and for fewer than 2 values) "stable".
    The slope is the OLS slope, computed in the centred form ``sum(dx dy) / sum(dx^2)``
    (same number, no cancellation between large sums).
    """
    arr = _vector(values, "calculate_trend")
    n = arr.size
    if n < 2:
        return "stable"
    x = np.arange(n, dtype=np.float64)
    dx = x - (n - 1) / 2
    exponent = _exponent(arr)
    scaled = np.ldexp(arr, -exponent)
    slope = float(np.dot(dx, scaled - scaled.mean())) / float(np.dot(dx, dx))  # in units of 2**exponent
    try:  # compare in the same units: no overflow for huge data...
        threshold = math.ldexp(TREND_THRESHOLD, -exponent)
    except OverflowError:  # ...and for data so tiny that 0.01 is beyond reach
        threshold = math.inf
    if slope > threshold:
        return "increasing"
    if slope < -threshold:
        return "decreasing"
    return "stable"


# -- preprocessing ---------------------------------------------------------------------------------


def min_max_scale(values: Sequence[float] | NDArray[Any]) -> list[float]:
    """``(v - min) / (max - min)``; all 0.5 for a constant series, ``[]`` for an empty one."""
    arr = _vector(values, "min_max_scale")
    if arr.size == 0:
        return []
    if _is_constant(arr):
        return [0.5] * arr.size
    scaled = _pow2_scale(arr)
    lo, hi = scaled.min(), scaled.max()
    return ((scaled - lo) / (hi - lo)).tolist()


def z_score_normalize(values: Sequence[float] | NDArray[Any]) -> list[float]:
    """``(v - mean) / population_std``; all 0 for a constant series. Example: ``[1,2,3] -> [-1.2247, 0, 1.2247]``."""
    arr = _vector(values, "z_score_normalize")
    if arr.size == 0:
        return []
    if _is_constant(arr):
        return [0.0] * arr.size
    scaled = _pow2_scale(arr)
    std = float(np.std(scaled))
    if std == 0:
        return [0.0] * arr.size
    return ((scaled - scaled.mean()) / std).tolist()


# -- clustering ---------------------------------------------------------------------------------


def _nearest(values: NDArray[np.float64], centroids: NDArray[np.float64]) -> NDArray[np.intp]:
    """Index of the nearest centroid by |distance|; ties go to the lowest index (argmin's rule)."""
    rows = max(1, _BLOCK // max(1, centroids.size))
    if values.size <= rows:
        with np.errstate(over="ignore"):
            return np.argmin(np.abs(values[:, None] - centroids[None, :]), axis=1)
    out = np.empty(values.size, dtype=np.intp)
    for start in range(0, values.size, rows):
        block = values[start : start + rows]
        with np.errstate(over="ignore"):
            out[start : start + rows] = np.argmin(np.abs(block[:, None] - centroids[None, :]), axis=1)
    return out


def k_means_clustering(values: Sequence[float] | NDArray[Any], k: int) -> list[dict[str, Any]]:
    """1-D k-means, deterministic: exactly ``k`` items ``{"cluster": c, "values": [...]}``.

    * Seeding: ``step = floor(n / k)``; centroid ``i`` = ``sorted[min(i * step, n - 1)]`` (all equal
      to the minimum when ``k > n``).
    * Every point starts in cluster 0. Up to 100 passes, while any assignment changes: assign each
      point to the nearest centroid (ties: lowest index), then move each centroid to the mean of its
      points (an empty cluster keeps its centroid).
    * Each item lists its points in input order; empty clusters are present with ``[]``; centroids
      are not returned. Empty input or ``k <= 0`` gives ``[]``.

    Example: ``([12, 1, 11, 2, 10, 3], 3) -> [[1, 2], [3], [12, 11, 10]]`` (a local optimum, as in JS).
    """
    func = "k_means_clustering"
    arr = _vector(values, func)
    clusters = _integer(k, func, "k")
    if arr.size == 0 or clusters <= 0:
        return []
    if clusters > K_MEANS_MAX_K:
        raise _bad(func, "k", f"an integer <= {K_MEANS_MAX_K:,}", clusters)
    n = arr.size
    points = _pow2_scale(arr)  # clustering is scale-invariant; the exact rescale keeps sums finite
    ordered = np.sort(points)
    step = n // clusters
    centroids = ordered[np.minimum(np.arange(clusters) * step, n - 1)].astype(np.float64)
    assignments = np.zeros(n, dtype=np.intp)
    changed = True
    iterations = 0
    while changed and iterations < K_MEANS_MAX_ITERATIONS:
        best = _nearest(points, centroids)
        changed = bool((best != assignments).any())
        assignments = best
        counts = np.bincount(assignments, minlength=clusters)
        sums = np.bincount(assignments, weights=points, minlength=clusters)  # sequential, like the JS reduce
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled]
        iterations += 1
    members: list[list[float]] = [[] for _ in range(clusters)]
    for value, cluster in zip(arr.tolist(), assignments.tolist(), strict=True):
        members[cluster].append(value)
    return [{"cluster": c, "values": members[c]} for c in range(clusters)]
