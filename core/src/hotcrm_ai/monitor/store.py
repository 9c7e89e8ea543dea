"""The in-memory event store: a bounded ring buffer of prediction events per model.

It is the built-in ``memory`` monitor sink *and* the store the monitor queries (stats, health,
recent errors). Memory is bounded per model: once a model holds ``max_events_per_model`` events,
each new one evicts that model's oldest, and ``evicted``
says how many went. The number of models is not bounded here; model ids come from the registry.

``record`` is on the hot path of every prediction, so it takes no lock: ``deque.append`` (with
``maxlen``) and ``next()`` on an ``itertools.count`` are each atomic in CPython, with or without the
GIL. A lock guards only the rare operations: creating a model's ring, reading, clearing, resizing.
Resizing while other threads record may drop the events recorded during the swap: the monitor
resizes once, at construction, before any traffic.

A batch of cached rows is recorded as rows (``EventRow``: the event's fields as a plain tuple, built
by ``zip`` over the batch's columns) and a ring keeps them as they are: building a thousand event
objects would cost a batch about as much as everything else it does. ``events`` turns the rows it
returns into events (about 1.5 us each); statistics and the recent errors read ``items`` instead,
the snapshot as stored, and never build an event for a row.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from hotcrm_ai.types import PredictionEvent

DEFAULT_MAX_EVENTS = 10_000

EventRow = tuple[Any, ...]
"""A ``PredictionEvent``'s fields in declaration order: ``PredictionEvent(*row)`` is the event."""


def _event(item: PredictionEvent | EventRow) -> PredictionEvent:
    return item if isinstance(item, PredictionEvent) else PredictionEvent(*item)


@runtime_checkable
class EventQuery(Protocol):
    """What the monitor needs from its queryable sink. ``EventStore`` is the built-in one."""

    name: str

    def record(self, event: PredictionEvent) -> None: ...

    def events(self, model_id: str) -> list[PredictionEvent]:
        """A snapshot of the model's retained events, oldest first."""

    def model_ids(self) -> list[str]: ...

    def clear(self, model_id: str | None = None) -> None: ...

    def resize(self, max_events_per_model: int) -> None: ...

    def close(self) -> None: ...


class _Ring:
    """One model's events and a lock-free count of every event it ever received.

    ``itertools.count`` cannot be read without advancing it, so a read calls ``next`` too and
    remembers how many reads it made: received = next(count) - reads (reads happen under the lock).
    """

    __slots__ = ("count", "events", "reads")

    def __init__(self, maxlen: int, events: deque[PredictionEvent | EventRow] | None = None, received: int = 0) -> None:
        self.events: deque[PredictionEvent | EventRow] = deque(events or (), maxlen=maxlen)
        self.count = itertools.count(received)
        self.reads = 0

    def received(self) -> int:
        value = next(self.count) - self.reads
        self.reads += 1
        return value


class EventStore:
    """Per-model ring buffers of ``PredictionEvent`` (thread-safe, bounded)."""

    name = "memory"

    def __init__(self, max_events_per_model: int = DEFAULT_MAX_EVENTS) -> None:
        self._max = _check_bound(max_events_per_model)
        self._rings: dict[str, _Ring] = {}
        self._lock = threading.Lock()

    @property
    def max_events_per_model(self) -> int:
        return self._max

    def record(self, event: PredictionEvent) -> None:
        ring = self._rings.get(event.model_id)
        if ring is None:
            ring = self._ring(event.model_id)
        ring.events.append(event)
        next(ring.count)

    def record_row(self, row: EventRow) -> None:
        """``record`` for one event in row form (a single prediction's: no event object is built)."""
        ring = self._rings.get(row[0])
        if ring is None:
            ring = self._ring(row[0])
        ring.events.append(row)
        next(ring.count)

    def record_rows(self, model_id: str, rows: Sequence[EventRow]) -> None:
        """``record`` for events of ``model_id`` already in row form (a batch's, built as rows)."""
        ring = self._rings.get(model_id)
        if ring is None:
            ring = self._ring(model_id)
        ring.events.extend(rows)
        deque(itertools.islice(ring.count, len(rows)), maxlen=0)  # advance the count by len(rows)

    def _ring(self, model_id: str) -> _Ring:
        with self._lock:
            ring = self._rings.get(model_id)
            if ring is None:
                ring = self._rings[model_id] = _Ring(self._max)
            return ring

    def events(self, model_id: str) -> list[PredictionEvent]:
        ring = self._rings.get(model_id)
        if ring is None:
            return []
        return list(map(_event, ring.events.copy()))  # copy(): one atomic C call

    def items(self, model_id: str) -> list[PredictionEvent | EventRow]:
        """A snapshot of the model's retained events as stored, oldest first: event objects and the
        rows of batches, left as rows (statistics read both without building an event per row)."""
        ring = self._rings.get(model_id)
        return [] if ring is None else list(ring.events.copy())

    def model_ids(self) -> list[str]:
        with self._lock:
            return [model_id for model_id, ring in self._rings.items() if ring.events]

    def evicted(self, model_id: str | None = None) -> int:
        """How many events the bound has dropped (for one model, or in total)."""
        with self._lock:
            rings = list(self._rings.values()) if model_id is None else [self._rings.get(model_id)]
            return sum(r.received() - len(r.events) for r in rings if r is not None)

    def clear(self, model_id: str | None = None) -> None:
        with self._lock:
            if model_id is None:
                self._rings.clear()
            else:
                self._rings.pop(model_id, None)

    def resize(self, max_events_per_model: int) -> None:
        """Change the bound; when it shrinks, each model keeps its newest events."""
        bound = _check_bound(max_events_per_model)
        with self._lock:
            if bound == self._max:
                return
            for model_id, ring in list(self._rings.items()):
                self._rings[model_id] = _Ring(bound, ring.events, ring.received())
            self._max = bound

    def close(self) -> None:
        """Nothing to release; the events stay readable."""

    def __repr__(self) -> str:
        return f"EventStore(models={len(self._rings)}, max_events_per_model={self._max})"


def _check_bound(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        from hotcrm_ai.errors import ConfigError

        raise ConfigError(f"max_events_per_model: expected an integer >= 1, got {value!r}")
    return value
