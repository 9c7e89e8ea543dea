"""Kept for imports written before the move: the numeric helpers live in ``hotcrm_ai.numeric``."""

from hotcrm_ai.numeric import (
    Trend,
    calculate_confidence,
    calculate_trend,
    cosine_similarity,
    detect_outliers,
    exponential_smoothing,
    k_means_clustering,
    min_max_scale,
    moving_average,
    normalize_score,
    pearson_correlation,
    sigmoid,
    standard_deviation,
    weighted_average,
    z_score_normalize,
)

__all__ = [
    "Trend",
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
