"""Tiny timing helpers shared by the benchmark scripts: medians of repeated runs, ratio lines."""

from __future__ import annotations

import statistics
import subprocess
import sys
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


def import_seconds(statement: str, repeat: int) -> float:
    """Median wall time of ``statement`` in ``repeat`` fresh interpreters (import costs)."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(repeat)
    ]
    return statistics.median(runs)


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of one call of ``fn`` over ``repeat`` runs."""
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def interleaved_ratio(
    a: Callable[[], object], b: Callable[[], object], *, number: int, rounds: int = 30
) -> tuple[float, float, float]:
    """``a`` and ``b`` in short alternating blocks; returns (fastest a, fastest b, median of the
    per-round ratios). On a shared machine a block's time is its cost plus whatever noise hit it:
    alternating and keeping the least-disturbed block of each side compares intrinsic costs, and the
    median ratio of neighbouring blocks says how stable that comparison is."""
    for fn in (a, b):
        for _ in range(min(number, 100)):
            fn()
    xs, ys = [], []
    for _ in range(rounds):
        for fn, out in ((a, xs), (b, ys)):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            out.append((time.perf_counter() - start) / number)
    return min(xs), min(ys), statistics.median(x / y for x, y in zip(xs, ys, strict=True))


def fastest_s(fn: Callable[[], object], *, number: int, blocks: int = 15) -> float:
    """Per-call time of the least-disturbed of ``blocks`` blocks of ``number`` calls (noise only adds)."""
    for _ in range(min(number, 100)):
        fn()
    best = float("inf")
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best
