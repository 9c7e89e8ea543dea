"""Tiny timing helpers shared by the benchmark scripts: medians of repeated runs, ratio lines."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def per_call_s(fn: Callable[[], object], *, number: int, repeat: int = 5, warmup: int = 1) -> float:
    """Median over ``repeat`` runs of the mean time of ``number`` calls."""
    for _ in range(warmup):
        for _ in range(min(number, 100)):
            fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return statistics.median(runs)


def line(name: str, ours: float, baseline: float, unit: str, goal: str, *, higher_is_better: bool = False) -> str:
    ratio = ours / baseline if baseline else float("inf")
    return f"{name:<58} ours {ours:>12.3f} {unit:<6} baseline {baseline:>12.3f} {unit:<6} ratio {ratio:>7.2f}x  (goal {goal})"
