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
    """One running call. ``done`` is a lock the leader holds until it finishes, made only when a
    follower arrives (most flights have none: a miss would pay for a lock it never waits on); a
    follower waits by acquiring it and hands it straight on."""

    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done: threading.Lock | None = None
        self.value: Any = None
        self.error: BaseException | None = None

    def waiter(self) -> threading.Lock:
        """The lock to wait on (called under the group's lock, before the leader can finish)."""
        if self.done is None:
            self.done = threading.Lock()
            self.done.acquire()
        return self.done


def _wait(done: threading.Lock, timeout_s: float | None) -> bool:
    if not done.acquire(timeout=-1 if timeout_s is None else max(0.0, timeout_s)):
        return False
    done.release()
    return True


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}
        self.shared = 0  # calls answered by another caller's flight

    def in_flight(self) -> int:
        with self._lock:
            return len(self._flights)

    def do(self, key: str, fn: Callable[[], T], *, wait_timeout_s: float | None = None) -> tuple[T, bool]:
        """Run ``fn`` once for concurrent callers of ``key``; returns ``(value, shared)``.

        ``shared`` is True for followers. A follower that waits longer than ``wait_timeout_s`` stops
        waiting and runs ``fn`` itself (a hung leader must not hang everyone forever).
        """
        with self._lock:
            flight = self._flights.get(key)
            if flight is None:
                flight = self._flights[key] = _Flight()
                done = None
            else:
                done = flight.waiter()
        if done is not None:  # a follower
            if not _wait(done, wait_timeout_s):
                return fn(), False
            with self._lock:
                self.shared += 1
            if flight.error is not None:
                raise flight.error
            return flight.value, True
        try:
            flight.value = fn()
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
                done = flight.done  # a follower that found the flight made it before the delete
            if done is not None:
                done.release()
        return flight.value, False
