"""Helpers for the monitor tests: event construction, a clock the test moves, and sinks that
plugins might ship (one that records into a list, one that raises on demand)."""

from __future__ import annotations

import threading
from typing import Any

from hotcrm_ai.types import PredictionEvent

T0 = 1_800_000_000.0  # a fixed epoch second, so windows are exact


def event(model_id: str = "test-model", **kw: Any) -> PredictionEvent:
    """A successful, uncached 100 ms event at T0 unless told otherwise."""
    fields: dict[str, Any] = {
        "model_id": model_id,
        "requested_model_id": kw.pop("requested_model_id", model_id),
        "model_version": "1.0.0",
        "timestamp": T0,
        "latency_ms": 100.0,
        "success": True,
        "confidence": 0.9,
    }
    fields.update(kw)
    return PredictionEvent(**fields)


class Clock:
    """A clock the test moves by hand (``now`` in epoch seconds)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ListSink:
    """A plain third-party style sink: keeps what it receives."""

    def __init__(self, name: str = "list") -> None:
        self.name = name
        self.events: list[PredictionEvent] = []
        self.closed = False
        self._lock = threading.Lock()

    def record(self, event: PredictionEvent) -> None:
        with self._lock:
            self.events.append(event)

    def close(self) -> None:
        self.closed = True


class RaisingSink(ListSink):
    """Raises on every ``record`` while ``broken`` (and on ``close`` if ``close_fails``)."""

    def __init__(self, name: str = "raising", *, broken: bool = True, close_fails: bool = False) -> None:
        super().__init__(name)
        self.broken = broken
        self.close_fails = close_fails
        self.attempts = 0

    def record(self, event: PredictionEvent) -> None:
        with self._lock:
            self.attempts += 1
        if self.broken:
            raise ConnectionError("sink backend unreachable")
        super().record(event)

    def close(self) -> None:
        if self.close_fails:
            raise OSError("close failed")
        super().close()
