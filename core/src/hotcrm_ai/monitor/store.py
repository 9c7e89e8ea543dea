"""The in-memory event store: a bounded ring buffer of prediction events per model.

It is the built-in ``memory`` monitor sink *and* the store the monitor queries (stats, health,
recent errors). Memory is bounded per model: once a model holds ``max_events_per_model`` events,
each new one evicts that model's oldest (the original kept 10,000 the same way). The number of
models is not bounded here; model ids come from the registry, so they are few.

``record`` is on the hot path of every prediction: one uncontended lock, a dict lookup and a deque
append. Reads take a snapshot (a list copy) under the lock and compute outside it.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from hotcrm_ai.types import PredictionEvent

DEFAULT_MAX_EVENTS = 10_000


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


class EventStore:
    """Per-model ring buffers of ``PredictionEvent`` (thread-safe, bounded)."""

    name = "memory"

    def __init__(self, max_events_per_model: int = DEFAULT_MAX_EVENTS) -> None:
        self._max = _check_bound(max_events_per_model)
        self._buffers: dict[str, deque[PredictionEvent]] = {}
        self._evicted: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def max_events_per_model(self) -> int:
        return self._max

    def record(self, event: PredictionEvent) -> None:
        model_id = event.model_id
        with self._lock:
            buffer = self._buffers.get(model_id)
            if buffer is None:
                buffer = self._buffers[model_id] = deque(maxlen=self._max)
            elif len(buffer) == self._max:
                self._evicted[model_id] = self._evicted.get(model_id, 0) + 1
            buffer.append(event)

    def events(self, model_id: str) -> list[PredictionEvent]:
        with self._lock:
            buffer = self._buffers.get(model_id)
            return list(buffer) if buffer is not None else []

    def model_ids(self) -> list[str]:
        with self._lock:
            return [model_id for model_id, buffer in self._buffers.items() if buffer]

    def evicted(self, model_id: str | None = None) -> int:
        """How many events the bound has dropped (for one model, or in total)."""
        with self._lock:
            if model_id is None:
                return sum(self._evicted.values())
            return self._evicted.get(model_id, 0)

    def clear(self, model_id: str | None = None) -> None:
        with self._lock:
            if model_id is None:
                self._buffers.clear()
                self._evicted.clear()
            else:
                self._buffers.pop(model_id, None)
                self._evicted.pop(model_id, None)

    def resize(self, max_events_per_model: int) -> None:
        """Change the bound; when it shrinks, each model keeps its newest events."""
        bound = _check_bound(max_events_per_model)
        with self._lock:
            if bound == self._max:
                return
            for model_id, buffer in list(self._buffers.items()):
                dropped = max(0, len(buffer) - bound)
                if dropped:
                    self._evicted[model_id] = self._evicted.get(model_id, 0) + dropped
                self._buffers[model_id] = deque(buffer, maxlen=bound)
            self._max = bound

    def close(self) -> None:
        """Nothing to release; the events stay readable."""

    def __repr__(self) -> str:
        return f"EventStore(models={len(self._buffers)}, max_events_per_model={self._max})"


def _check_bound(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        from hotcrm_ai.errors import ConfigError

        raise ConfigError(f"max_events_per_model: expected an integer >= 1, got {value!r}")
    return value
