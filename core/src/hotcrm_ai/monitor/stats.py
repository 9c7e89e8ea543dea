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

Events may come as objects or as the rows a batch is stored as (``EventStore.items``); both are read
field by field into the same columns, so a ring of 10,000 rows costs what 10,000 events cost.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from itertools import compress
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import attrs

if TYPE_CHECKING:
    from hotcrm_ai.monitor.outcomes import Outcome
    from hotcrm_ai.monitor.store import EventRow
    from hotcrm_ai.types import PredictionEvent


class _Timed(Protocol):
    @property
    def variant(self) -> str | None: ...
    @property
    def timestamp(self) -> float: ...


_T = TypeVar("_T", bound=_Timed)


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


def row_index(name: str) -> int:
    """Where ``name`` is in an ``EventRow`` (a ``PredictionEvent``'s fields in declaration order)."""
    from hotcrm_ai.types import PredictionEvent

    return [a.name for a in attrs.fields(PredictionEvent)].index(name)


# What statistics read of an event, in this order: from an event object, or from the same event
# kept as a row (``EventRow``: its fields in declaration order), so a ring of batch rows is read
# as it is stored, without building an event per row.
_NEEDED = ("timestamp", "latency_ms", "confidence", "success", "cached", "degraded", "variant", "usage")
_FROM_EVENT = [attrgetter(name) for name in _NEEDED]
_FROM_ROW = [itemgetter(row_index(name)) for name in _NEEDED]
_EVENT_NEEDED = attrgetter(*_NEEDED)
_ROW_NEEDED = itemgetter(*map(row_index, _NEEDED))


def _columns(items: Sequence[PredictionEvent | EventRow]) -> list[Sequence[Any]]:
    """``_NEEDED`` of every item as columns, in the items' order (means and percentiles then see
    the same values in the same order whichever form each event was kept in)."""
    kinds = set(map(type, items))
    if kinds <= {tuple}:
        return [list(map(get, cast("Sequence[EventRow]", items))) for get in _FROM_ROW]
    if tuple not in kinds:
        return [list(map(get, items)) for get in _FROM_EVENT]
    mixed = [_ROW_NEEDED(x) if type(x) is tuple else _EVENT_NEEDED(x) for x in items]
    return list(zip(*mixed, strict=True))


def compute(
    model_id: str,
    events: Sequence[PredictionEvent | EventRow],
    outcomes: Sequence[Outcome],
    *,
    variant: str | None = None,
    window_s: float | None = None,
    now: float,
) -> ModelStats | None:
    """``ModelStats`` for the selected events, or None when none are selected. ``events`` may hold
    event objects, rows (``EventStore.items``: a batch's events as stored) or both; the selection
    (``variant``, ``window_s``) is a mask over the columns, as ``select`` would choose."""
    if not events:
        return None
    import numpy as np

    columns = _columns(events)
    timestamps, latency, confidence = (np.array(c, dtype=np.float64) for c in columns[:3])
    success, cached, degraded = (np.array(c, dtype=bool) for c in columns[3:6])
    usages: Sequence[Any] = columns[7]
    if variant is not None or window_s is not None:
        keep = np.ones(len(timestamps), dtype=bool)
        if variant is not None:
            keep &= np.array(columns[6], dtype=object) == variant
        if window_s is not None:
            keep &= (now - timestamps) < window_s
        if not keep.all():
            timestamps, latency, confidence = timestamps[keep], latency[keep], confidence[keep]
            success, cached, degraded = success[keep], cached[keep], degraded[keep]
            usages = list(compress(usages, keep.tolist()))
    n = len(timestamps)
    if not n:
        return None
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
        usage=_usage(usages),
    )


def _usage(usages: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    totals: dict[str, list[float]] = {}
    for usage in filter(None, usages):  # most events have none
        for key, value in usage.items():
            kind = type(value)
            number = kind is float or kind is int or (isinstance(value, numbers.Real) and kind is not bool)
            if number and math.isfinite(value):
                totals.setdefault(str(key), []).append(float(value))
    return {key: math.fsum(values) for key, values in totals.items()}
