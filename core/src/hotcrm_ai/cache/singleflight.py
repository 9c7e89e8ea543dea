"""Per-key single flight: concurrent identical calls in one process run the work once.

The first caller for a key (the leader) runs ``fn``; callers arriving while it runs (followers) wait
for it and receive the same value, or the same exception. Once the leader finishes the key is free
again. This is Go's ``singleflight.Group.Do`` for threads. It is per process on purpose: across
processes, each process's leader may call the provider once (see docs/cache.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Flight:
    """A running call that someone waits for. ``done`` is a lock held until the leader finishes (a
    lock is several times cheaper to create than an ``Event``); a follower waits by acquiring it and
    hands it straight on. A leader nobody waits for has no flight object at all (most misses)."""

    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Lock()
        self.done.acquire()
        self.value: Any = None
        self.error: BaseException | None = None

    def wait(self, timeout_s: float | None) -> bool:
        if not self.done.acquire(timeout=-1 if timeout_s is None else max(0.0, timeout_s)):
            return False
        self.done.release()
        return True


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # key -> its flight once a follower waits on it, None while only its leader is there
        self._flights: dict[str, _Flight | None] = {}
        self.shared = 0  # calls answered by another caller's flight

    def in_flight(self) -> int:
        with self._lock:
            return len(self._flights)

    def do(self, key: str, fn: Callable[[], T], *, wait_timeout_s: float | None = None) -> tuple[T, bool]:
        """Run ``fn`` once for concurrent callers of ``key``; returns ``(value, shared)``.

        ``shared`` is True for followers. A follower that waits longer than ``wait_timeout_s`` stops
        waiting and runs ``fn`` itself (a hung leader must not hang everyone forever).
        """
        flight = self.join(key)
        if flight is not None:
            return self.follow(flight, fn, wait_timeout_s)
        try:
            value = fn()
        except BaseException as exc:
            self.finish(key, None, exc)
            raise
        self.finish(key, value, None)
        return value, False

    def join(self, key: str) -> _Flight | None:
        """``do`` in two halves, for a caller that runs the leader's work inline (no closure, no
        frame): None makes this caller the leader of ``key``, which must then call ``finish`` exactly
        once, whatever happens; otherwise the flight to ``follow``."""
        lock = self._lock
        lock.acquire()  # not ``with``: its method lookups cost more than this section
        try:
            flights = self._flights
            if key not in flights:
                flights[key] = None
                return None
            flight = flights[key]
            if flight is None:  # the first follower: it makes what everyone waits on
                flight = flights[key] = _Flight()
            return flight
        finally:
            lock.release()

    def follow(self, flight: _Flight, fn: Callable[[], T], wait_timeout_s: float | None) -> tuple[T, bool]:
        """A follower's half of ``do``: the leader's value (or exception), or ``fn()`` run by this
        caller after ``wait_timeout_s``."""
        if not flight.wait(wait_timeout_s):
            return fn(), False
        with self._lock:
            self.shared += 1
        if flight.error is not None:
            raise flight.error
        return flight.value, True

    def finish(self, key: str, value: Any, error: BaseException | None) -> None:
        """The leader's outcome for ``key``: handed to its followers, and the key is free again."""
        lock = self._lock
        lock.acquire()  # not ``with``: its method lookups cost more than this section
        try:
            flight = self._flights.pop(key)
        finally:
            lock.release()
        if flight is not None:  # followers came: hand them the outcome, then let them go
            flight.value, flight.error = value, error
            flight.done.release()
