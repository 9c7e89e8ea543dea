"""Statistics over a set of prediction events, computed on demand with numpy.

* total / successes / failures / degraded / cached: counts over the selected events.
* error_rate = failures / total x 100; cache_hit_rate = cached / total x 100 (failures stay in the
  denominator).
* latency_mean_ms over every event (cached and failed included); percentiles over the sorted
  latencies at index ``floor(n x p)`` with no interpolation, so the median of [100..500] is 300 and
  of [100, 200, 300, 400] is 300 (the upper median), p95 of ten values is the maximum.
* mean_confidence over successful events (cached hits included), 0 when there are none.
* last_updated: the newest selected event's timestamp (not the query time, which says nothing).
* outcomes / accuracy (% of label outcomes that matched) / mae (mean absolute error of value
  outcomes), over the outcomes of the selected events; None when there are none of that kind.
* usage: per key, the sum of every numeric (non-bool, finite) value in ``event.usage``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Protocol, TypeVar

import attrs

if TYPE_CHECKING:
    from hotcrm_ai.monitor.outcomes import Outcome
    from hotcrm_ai.types import PredictionEvent


class _Timed(Protocol):
    @property
    def variant(self) -> str | None: ...
    @property
    def timestamp(self) -> float: ...


_T = TypeVar("_T", bound=_Timed)
_COLUMNS = attrgetter("timestamp", "latency_ms", "confidence", "success", "cached", "degraded")


@attrs.frozen
class ModelStats:
    """One model's (or one variant's) figures over a window. Rates are percentages (0-100)."""

    model_id: str
    variant: str | None
    window_s: float | None
    total: int
    successes: int
    failures: int
    error_rate: float
    degraded: int
    cached: int
    cache_hit_rate: float
    latency_mean_ms: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    mean_confidence: float
    last_updated: float
    outcomes: int = 0
    accuracy: float | None = None
    mae: float | None = None
    usage: dict[str, float] = attrs.field(factory=dict)
    dropped: int = 0  # events a store writer dropped (its queue was full); 0 without a store


def percentile_index(n: int, p: float) -> int:
    """Nearest-rank percentile: index ``floor(n * p)`` (0-based), kept inside the list."""
    return min(n - 1, math.floor(n * p))


def select(events: Sequence[_T], *, variant: str | None, window_s: float | None, now: float) -> list[_T]:
    """Events of ``variant`` (None: all) made strictly less than ``window_s`` seconds before ``now``."""
    if variant is not None:
        events = [e for e in events if e.variant == variant]
    if window_s is not None:
        events = [e for e in events if now - e.timestamp < window_s]
    return list(events)


def compute(
    model_id: str,
    events: Sequence[PredictionEvent],
    outcomes: Sequence[Outcome],
    *,
    variant: str | None = None,
    window_s: float | None = None,
    now: float,
) -> ModelStats | None:
    """``ModelStats`` for the selected events, or None when none are selected."""
    selected = select(events, variant=variant, window_s=window_s, now=now)
    if not selected:
        return None
    import numpy as np

    table = np.array(list(map(_COLUMNS, selected)), dtype=np.float64)
    timestamps, latency, confidence = table[:, 0], table[:, 1], table[:, 2]
    success, cached, degraded = table[:, 3] != 0, table[:, 4] != 0, table[:, 5] != 0
    n = len(selected)
    successes = int(success.sum())
    failures = n - successes
    n_cached = int(cached.sum())
    wanted = (percentile_index(n, 0.5), percentile_index(n, 0.95), percentile_index(n, 0.99))
    ranked = np.partition(latency, sorted(set(wanted)))
    p50, p95, p99 = (float(ranked[i]) for i in wanted)
    mean_confidence = float(confidence[success].mean()) if successes else 0.0

    accuracy = mae = None
    joined = select(outcomes, variant=variant, window_s=window_s, now=now)  # by the prediction's time
    labels = [o.correct for o in joined if o.correct is not None]
    errors = [o.abs_error for o in joined if o.abs_error is not None]
    if labels:
        accuracy = sum(labels) / len(labels) * 100
    if errors:
        mae = math.fsum(errors) / len(errors)

    return ModelStats(
        model_id=model_id,
        variant=variant,
        window_s=window_s,
        total=n,
        successes=successes,
        failures=failures,
        error_rate=failures / n * 100,
        degraded=int(degraded.sum()),
        cached=n_cached,
        cache_hit_rate=n_cached / n * 100,
        latency_mean_ms=float(latency.mean()),
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        latency_p99_ms=p99,
        mean_confidence=mean_confidence,
        last_updated=float(timestamps.max()),
        outcomes=len(joined),
        accuracy=accuracy,
        mae=mae,
        usage=_usage(selected),
    )


def _usage(events: Sequence[PredictionEvent]) -> dict[str, float]:
    totals: dict[str, list[float]] = {}
    for event in events:
        if not event.usage:
            continue
        for key, value in event.usage.items():
            if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
                totals.setdefault(str(key), []).append(float(value))
    return {key: math.fsum(values) for key, values in totals.items()}
