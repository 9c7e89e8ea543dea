"""``hotcrm_ai.numeric``: the TypeScript version's worked examples, properties against independent
computations (statistics, scipy, numpy, a literal port of the JS k-means), edge cases and bad input."""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.special
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hotcrm_ai import numeric as u
from hotcrm_ai.errors import ValidationError

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
series = st.lists(finite, min_size=1, max_size=60)
SETTINGS = settings(max_examples=150, deadline=None)


# -- worked examples of the TypeScript version ----------------------------------------------------------


def test_calculate_confidence_examples() -> None:
    assert u.calculate_confidence(100, 85, 90) == pytest.approx(76.5)
    assert u.calculate_confidence(9, 100) == pytest.approx(68)
    assert u.calculate_confidence(99, 100) == pytest.approx(80)
    assert u.calculate_confidence(0, 100) == pytest.approx(56)  # factor 0.7 with the default accuracy
    assert u.calculate_confidence(10_000, 100, 100) == 100  # saturates, clamped to 100
    assert u.calculate_confidence(10, 0) == 0
    assert u.calculate_confidence(50, 100, 150) == 100  # clamp above


def test_normalize_score_examples() -> None:
    assert u.normalize_score(75, 0, 150) == 50
    assert u.normalize_score(5, 5, 5) == 50  # empty range
    assert u.normalize_score(-10, 0, 100) == 0
    assert u.normalize_score(1000, 0, 100) == 100
    assert u.normalize_score([0, 75, 150, 300], 0, 150).tolist() == [0, 50, 100, 100]
    assert u.normalize_score(0, -1e308, 1e308) == 50  # the span overflows a double; still right


def test_weighted_average_readme_example() -> None:
    items = [{"value": 80, "weight": 0.3}, {"value": 90, "weight": 0.5}, {"value": 70, "weight": 0.2}]
    assert u.weighted_average(items) == pytest.approx(83)
    assert u.weighted_average([(80, 0.3), (90, 0.5), (70, 0.2)]) == pytest.approx(83)
    assert u.weighted_average([]) == 0
    assert u.weighted_average([{"value": 5, "weight": 0}]) == 0
    assert u.weighted_average([(1e308, 1.0), (1e308, 1.0)]) == pytest.approx(1e308)


def test_sigmoid_examples_and_overflow() -> None:
    assert u.sigmoid(0) == 0.5
    assert u.sigmoid(-1000) == 0.0  # JS gives 0 here; math.exp would overflow
    assert u.sigmoid(1000) == 1.0
    assert u.sigmoid(-745.2) == 0.0
    arr = u.sigmoid(np.array([[-1000.0, 0.0], [2.0, 1000.0]]))
    assert arr.shape == (2, 2)
    assert arr.ravel().tolist() == pytest.approx([0.0, 0.5, 1 / (1 + math.exp(-2)), 1.0])
    assert u.sigmoid([-800, 800]).tolist() == [0.0, 1.0]


def test_cosine_similarity_examples() -> None:
    assert u.cosine_similarity([1, 2, 3, 4], [2, 3, 4, 5]) == pytest.approx(0.993808, abs=1e-6)
    assert u.cosine_similarity([0, 0], [1, 2]) == 0
    assert u.cosine_similarity([], []) == 0
    assert u.cosine_similarity([-1, 0], [1, 0]) == pytest.approx(-1)
    with pytest.raises(ValidationError, match="Vectors must have same length"):
        u.cosine_similarity([1, 2], [1, 2, 3])
    # norms overflow (1e616) or underflow (1e-616) a double in the plain formula; not here
    assert u.cosine_similarity([1e308, 1e308], [1e308, 0]) == pytest.approx(math.sqrt(0.5))
    assert u.cosine_similarity([1e-308, 1e-308], [1e-308, 0]) == pytest.approx(math.sqrt(0.5))


def test_standard_deviation_examples() -> None:
    assert u.standard_deviation([2, 4, 4, 4, 5, 5, 7, 9]) == 2
    assert u.standard_deviation([]) == 0
    assert u.standard_deviation([0.1, 0.1, 0.1]) == 0  # exactly, though the float mean is not 0.1
    assert u.standard_deviation([1e308, -1e308]) == pytest.approx(1e308)


def test_detect_outliers_readme_example() -> None:
    assert u.detect_outliers([10, 12, 11, 13, 100, 14, 12, 11]) == {
        "outliers": [100],
        "threshold": {"lower": 6.5, "upper": 18.5},
    }
    assert u.detect_outliers([1, 2, 100]) == {"outliers": [], "threshold": {"lower": 0, "upper": 0}}
    # quartiles at floor(n/4), floor(3n/4) of the sorted values, no interpolation; input order kept
    result = u.detect_outliers([-50, 1, 2, 3, 4, 5, 6, 7, 90])
    assert result["threshold"] == {"lower": 2 - 1.5 * 4, "upper": 6 + 1.5 * 4}  # q1 = sorted[2], q3 = sorted[6]
    assert result["outliers"] == [-50, 90]


def test_moving_average_examples() -> None:
    assert u.moving_average([1, 2, 3, 4, 5], 3) == [1, 1.5, 2, 3, 4]
    assert u.moving_average([], 3) == []
    assert u.moving_average([4, 8], 5) == [4, 6]  # window longer than the series: all partial
    assert u.moving_average([3, 1, 2], 1) == [3, 1, 2]
    assert u.moving_average([1e308, 1e308, 1e308], 2) == [1e308, 1e308, 1e308]  # sums would overflow


def test_exponential_smoothing_examples() -> None:
    assert u.exponential_smoothing([10, 20, 30]) == pytest.approx([10, 13, 18.1])
    assert u.exponential_smoothing([]) == []
    assert u.exponential_smoothing([1, 5, 9], alpha=1) == [1, 5, 9]


def test_calculate_trend_examples() -> None:
    assert u.calculate_trend([100, 105, 110, 115, 120]) == "increasing"
    assert u.calculate_trend([120, 115, 110]) == "decreasing"
    assert u.calculate_trend([1, 1.005, 1.01]) == "stable"  # slope 0.005: the band is absolute
    assert u.calculate_trend([7]) == "stable"
    assert u.calculate_trend([]) == "stable"
    assert u.calculate_trend([1e308, -1e308]) == "decreasing"


def test_min_max_scale_and_z_score_examples() -> None:
    assert u.min_max_scale([1, 2, 3]) == [0, 0.5, 1]
    assert u.min_max_scale([]) == []
    assert u.min_max_scale([4, 4]) == [0.5, 0.5]
    assert u.min_max_scale([-1e308, 0, 1e308]) == [0, 0.5, 1]
    assert u.z_score_normalize([1, 2, 3]) == pytest.approx([-1.2247, 0, 1.2247], abs=1e-4)
    assert u.z_score_normalize([]) == []
    assert u.z_score_normalize([0.1, 0.1, 0.1]) == [0, 0, 0]
    assert u.z_score_normalize([1e308, -1e308, 0]) == pytest.approx([1.2247449, -1.2247449, 0])


def test_pearson_correlation_examples() -> None:
    assert u.pearson_correlation([1, 2, 3], [2, 4, 6]) == pytest.approx(1)
    assert u.pearson_correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1)
    assert u.pearson_correlation([1, 2, 3], [5, 5, 5]) == 0
    assert u.pearson_correlation([0.1, 0.1, 0.1], [1, 2, 3]) == 0
    assert u.pearson_correlation([1e308, -1e308, 0], [1, -1, 0]) == pytest.approx(1)
    for x, y in (([1, 2], [1, 2, 3]), ([], [])):
        with pytest.raises(ValidationError, match="Arrays must have same non-zero length"):
            u.pearson_correlation(x, y)


@pytest.mark.parametrize(
    ("values", "k", "expected"),
    [
        ([1, 2, 3, 10, 11, 12], 2, [[1, 2, 3], [10, 11, 12]]),
        ([12, 1, 11, 2, 10, 3], 3, [[1, 2], [3], [12, 11, 10]]),  # a local optimum, as the original
        ([5, 1], 3, [[5, 1], [], []]),  # k > n: all seeds equal the minimum
        ([1, 2, 3, 4, 100], 2, [[1, 2, 3, 4], [100]]),
    ],
)
def test_k_means_examples(values: list[float], k: int, expected: list[list[float]]) -> None:
    result = u.k_means_clustering(values, k)
    assert [c["cluster"] for c in result] == list(range(k))
    assert [c["values"] for c in result] == expected


def test_k_means_edge_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    assert u.k_means_clustering([], 3) == []
    assert u.k_means_clustering([1, 2], 0) == []
    assert u.k_means_clustering([1, 2], -1) == []
    assert [c["values"] for c in u.k_means_clustering([1e308, 1e308, -1e308], 2)] == [[-1e308], [1e308, 1e308]]
    # a large n x k distance matrix is computed in row blocks; the result is the same
    monkeypatch.setattr(u, "_BLOCK", 64)  # 64 cells per block: 3 rows of 20 centroids
    rng = np.random.default_rng(3)
    big = rng.normal(size=400).tolist()
    assert _js_k_means(big, 20) == [c["values"] for c in u.k_means_clustering(big, 20)]


# -- properties against independent computations ------------------------------------------------


def _js_k_means(values: list[float], k: int) -> list[list[float]]:
    """A literal, loop-for-loop port of the original TypeScript, for comparison."""
    sorted_values = sorted(values)
    step = len(values) // k
    centroids = [sorted_values[min(i * step, len(values) - 1)] for i in range(k)]
    assignments = [0] * len(values)
    changed, iterations = True, 0
    while changed and iterations < 100:
        changed = False
        for i, v in enumerate(values):
            min_dist, best = math.inf, 0
            for c in range(k):
                dist = abs(v - centroids[c])
                if dist < min_dist:
                    min_dist, best = dist, c
            if assignments[i] != best:
                assignments[i] = best
                changed = True
        for c in range(k):
            points = [v for v, a in zip(values, assignments, strict=True) if a == c]
            if points:
                total = 0.0
                for p in points:
                    total += p
                centroids[c] = total / len(points)
        iterations += 1
    return [[v for v, a in zip(values, assignments, strict=True) if a == c] for c in range(k)]


@SETTINGS
@given(st.lists(st.integers(-1000, 1000).map(float), min_size=1, max_size=40), st.integers(1, 8))
def test_k_means_matches_a_literal_port_of_the_original(values: list[float], k: int) -> None:
    assert [c["values"] for c in u.k_means_clustering(values, k)] == _js_k_means(values, k)


@SETTINGS
@given(series)
def test_standard_deviation_is_statistics_pstdev(values: list[float]) -> None:
    assert u.standard_deviation(values) == pytest.approx(statistics.pstdev(values), rel=1e-9, abs=1e-6)


@SETTINGS
@given(st.lists(st.tuples(finite, finite), min_size=2, max_size=60))
def test_pearson_matches_scipy(pairs: list[tuple[float, float]]) -> None:
    x, y = (list(c) for c in zip(*pairs, strict=True))
    sx, sy = statistics.pstdev(x), statistics.pstdev(y)
    assume(sx > 1e-3 and sy > 1e-3)  # scipy warns and is ill-conditioned on (near-)constant input
    assert u.pearson_correlation(x, y) == pytest.approx(scipy.stats.pearsonr(x, y)[0], abs=1e-7)


@SETTINGS
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=60))
def test_cosine_matches_scipy(pairs: list[tuple[float, float]]) -> None:
    a, b = (list(c) for c in zip(*pairs, strict=True))
    assume(np.linalg.norm(a) > 1e-6 and np.linalg.norm(b) > 1e-6)
    expected = 1 - scipy.spatial.distance.cosine(a, b)
    assert u.cosine_similarity(a, b) == pytest.approx(expected, abs=1e-9)


@SETTINGS
@given(series, st.integers(1, 10))
def test_moving_average_is_the_mean_of_each_trailing_window(values: list[float], window: int) -> None:
    expected = [statistics.fmean(values[max(0, i - window + 1) : i + 1]) for i in range(len(values))]
    assert u.moving_average(values, window) == pytest.approx(expected, rel=1e-9, abs=1e-6)


@SETTINGS
@given(series, st.floats(min_value=0.01, max_value=1.0))
def test_exponential_smoothing_matches_the_closed_form(values: list[float], alpha: float) -> None:
    # s_i = (1-a)^i v_0 + sum_{j=1..i} a (1-a)^(i-j) v_j
    v = np.array(values)
    expected = []
    for i in range(len(v)):
        j = np.arange(1, i + 1)
        expected.append((1 - alpha) ** i * v[0] + float(np.sum(alpha * (1 - alpha) ** (i - j) * v[1 : i + 1])))
    assert u.exponential_smoothing(values, alpha) == pytest.approx(expected, rel=1e-9, abs=1e-6)


@SETTINGS
@given(st.lists(finite, min_size=2, max_size=60))
def test_trend_follows_the_least_squares_slope(values: list[float]) -> None:
    slope = scipy.stats.linregress(np.arange(len(values)), values).slope
    assume(abs(abs(slope) - 0.01) > 1e-6)  # not on the dead band's edge
    expected = "increasing" if slope > 0.01 else "decreasing" if slope < -0.01 else "stable"
    assert u.calculate_trend(values) == expected


@SETTINGS
@given(st.lists(finite, min_size=2, max_size=60))
def test_z_scores_match_scipy(values: list[float]) -> None:
    assume(statistics.pstdev(values) > 1e-3)
    assert u.z_score_normalize(values) == pytest.approx(scipy.stats.zscore(values).tolist(), abs=1e-7)


@SETTINGS
@given(series)
def test_min_max_scale_maps_min_to_0_and_max_to_1(values: list[float]) -> None:
    scaled = u.min_max_scale(values)
    assert len(scaled) == len(values)
    if min(values) == max(values):
        assert scaled == [0.5] * len(values)
        return
    assert scaled[values.index(min(values))] == 0 and scaled[values.index(max(values))] == 1
    assert all(0 <= s <= 1 for s in scaled)
    lo, hi = min(values), max(values)
    assert scaled == pytest.approx([(v - lo) / (hi - lo) for v in values], abs=1e-12)


@SETTINGS
@given(st.floats(min_value=-1000, max_value=1000))
def test_sigmoid_matches_scipy_expit(x: float) -> None:
    assert u.sigmoid(x) == pytest.approx(float(scipy.special.expit(x)), rel=1e-12, abs=1e-300)


@SETTINGS
@given(st.lists(st.tuples(finite, st.floats(min_value=0.001, max_value=100)), min_size=1, max_size=40))
def test_weighted_average_matches_numpy_average(pairs: list[tuple[float, float]]) -> None:
    values, weights = zip(*pairs, strict=True)
    expected = float(np.average(values, weights=weights))
    assert u.weighted_average(pairs) == pytest.approx(expected, rel=1e-9, abs=1e-6)


@SETTINGS
@given(st.lists(finite, min_size=4, max_size=60))
def test_outliers_are_exactly_the_values_outside_the_bounds(values: list[float]) -> None:
    result = u.detect_outliers(values)
    ordered = sorted(values)
    q1, q3 = ordered[len(values) // 4], ordered[(3 * len(values)) // 4]
    assert result["threshold"] == {"lower": q1 - 1.5 * (q3 - q1), "upper": q3 + 1.5 * (q3 - q1)}
    lower, upper = result["threshold"]["lower"], result["threshold"]["upper"]
    assert result["outliers"] == [v for v in values if v < lower or v > upper]


@SETTINGS
@given(st.floats(0, 1e6), st.floats(0, 100), st.floats(0, 100))
def test_confidence_is_bounded_and_grows_with_the_sample(n: float, quality: float, accuracy: float) -> None:
    c = u.calculate_confidence(n, quality, accuracy)
    assert 0 <= c <= 100
    assert u.calculate_confidence(n * 2 + 1, quality, accuracy) >= c


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_rejected_naming_the_argument(bad: float) -> None:
    calls: list[tuple[Any, str]] = [
        (lambda: u.calculate_confidence(bad, 50), "sample_size"),
        (lambda: u.calculate_confidence(10, bad), "data_quality"),
        (lambda: u.calculate_confidence(10, 50, bad), "model_accuracy"),
        (lambda: u.normalize_score(bad, 0, 1), "value"),
        (lambda: u.normalize_score(1, bad, 1), "min_value"),
        (lambda: u.weighted_average([(1, 1), (bad, 1)]), "items[1].value"),
        (lambda: u.weighted_average([{"value": 1, "weight": bad}]), "items[0].weight"),
        (lambda: u.sigmoid(bad), "x"),
        (lambda: u.sigmoid([0.0, bad]), "x[1]"),
        (lambda: u.cosine_similarity([1, bad], [1, 2]), "a[1]"),
        (lambda: u.standard_deviation([1, 2, bad]), "values[2]"),
        (lambda: u.detect_outliers([1, 2, 3, 4, bad]), "values[4]"),
        (lambda: u.moving_average([bad], 2), "values[0]"),
        (lambda: u.exponential_smoothing([1, bad]), "values[1]"),
        (lambda: u.exponential_smoothing([1], bad), "alpha"),
        (lambda: u.calculate_trend([1, bad]), "values[1]"),
        (lambda: u.min_max_scale([bad]), "values[0]"),
        (lambda: u.z_score_normalize([bad, 1]), "values[0]"),
        (lambda: u.pearson_correlation([1, 2], [bad, 1]), "y[0]"),
        (lambda: u.k_means_clustering([1, bad], 2), "values[1]"),
    ]
    for call, field in calls:
        with pytest.raises(ValidationError) as info:
            call()
        assert isinstance(info.value, ValueError)
        assert f"{field}: expected" in str(info.value), str(info.value)


def test_invalid_arguments_raise_value_errors_with_clear_messages() -> None:
    cases: list[tuple[Any, str]] = [
        (lambda: u.moving_average([1, 2], 0), "window: expected an integer >= 1, got 0"),
        (lambda: u.moving_average([1, 2], -3), "window: expected an integer >= 1"),
        (lambda: u.moving_average([1, 2], 1.5), "window: expected an integer"),
        (lambda: u.exponential_smoothing([1, 2], 0), "alpha: expected a number in (0, 1]"),
        (lambda: u.exponential_smoothing([1, 2], 1.5), "alpha: expected a number in (0, 1]"),
        (lambda: u.calculate_confidence(-1, 50), "sample_size: expected a number >= 0"),
        (lambda: u.standard_deviation("123"), "values: expected a sequence of numbers"),
        (lambda: u.standard_deviation([1, "2"]), "values: expected a sequence of numbers"),
        (lambda: u.standard_deviation([1, None]), "values[1]: expected a number"),
        (lambda: u.standard_deviation([[1, 2], [3, 4]]), "values: expected a flat (1-D) sequence"),
        (lambda: u.standard_deviation({"a": 1}), "values: expected a sequence of numbers"),
        (lambda: u.weighted_average([{"value": 1}]), "items[0].weight: expected a number (key is missing)"),
        (lambda: u.weighted_average([(1, 2, 3)]), "items[0]: expected a {value, weight} mapping"),
        (lambda: u.weighted_average([(True, 1)]), "items[0].value: expected a finite number"),
        (lambda: u.k_means_clustering([1, 2], "2"), "k: expected an integer"),
        (lambda: u.k_means_clustering([1, 2], 10**7), "k: expected an integer <= 1,000,000"),
        (lambda: u.cosine_similarity([1], [1, 2]), "b: expected the length of a (1)"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as info:
            call()
        assert message in str(info.value), str(info.value)


def test_accepts_any_iterable_and_numpy_input() -> None:
    assert u.moving_average((x for x in [1, 2, 3]), 2) == [1, 1.5, 2.5]
    assert u.standard_deviation(np.array([2, 4, 4, 4, 5, 5, 7, 9], dtype=np.int32)) == 2
    assert u.k_means_clustering(np.array([1.0, 2.0, 9.0]), 2)[1]["values"] == [9.0]
    assert u.moving_average([1, 2, 3], 2.0) == [1, 1.5, 2.5]  # an integral float window is fine
    assert u.weighted_average(np.array([[80, 0.3], [90, 0.5], [70, 0.2]])) == pytest.approx(83)


def test_python_ints_beyond_float_range_raise_validation_errors() -> None:
    """Review regression: ``10**400`` made ``float()``/``astype`` raise a bare OverflowError."""
    huge = 10**400
    with pytest.raises(ValidationError, match=r"sigmoid arguments.*x"):
        u.sigmoid(huge)
    with pytest.raises(ValidationError, match=r"values\[1\]"):
        u.standard_deviation([1, huge, 3])
    with pytest.raises(ValidationError, match="alpha"):
        u.exponential_smoothing([1.0, 2.0], -huge)
    with pytest.raises(ValidationError, match=r"b\[0\]"):
        u.cosine_similarity([1.0], [huge])
    with pytest.raises(ValidationError, match="sample_size"):
        u.calculate_confidence(huge, 50, 80)
