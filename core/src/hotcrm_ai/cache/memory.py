"""The in-memory cache backend: bytes with a TTL, bounded by entry count and total bytes (LRU).

It is both the ``memory`` backend and the manager's fallback while Redis is unreachable, so it must
never grow without bound: ``max_entries`` and ``max_bytes`` (keys + values) both evict the least
recently used entries. Expired entries are dropped when touched and swept when ``stats()`` runs or
when the bound is reached, so they never push live entries out. One lock guards everything: the
critical sections are a few dict operations, far cheaper than any contention they could cause.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hotcrm_ai.errors import ConfigError

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_VALUE_BYTES = 1024 * 1024
SWEEP_INTERVAL_S = 1.0  # between full expiry scans a full cache evicts LRU entries; expired ones also go on read


class MemoryBackend:
    """A thread-safe LRU of ``key -> (expires_at, bytes)`` (implements ``CacheBackend``)."""

    name = "memory"

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (
            ("max_entries", max_entries),
            ("max_bytes", max_bytes),
            ("max_value_bytes", max_value_bytes),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"[cache] {name}: expected a positive integer, got {value!r:.40}")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_value_bytes = max_value_bytes
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._evictions = 0
        self._expirations = 0
        self._oversize = 0
        self._next_sweep = -math.inf  # full expiry scans at most once per SWEEP_INTERVAL_S (see _make_room)
        # no entry expires before this (a lower bound: the soonest expiry seen since the last scan), so
        # a full cache whose entries all outlive the scan interval is not scanned for nothing
        self._soonest = math.inf

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, clock: Callable[[], float] = time.monotonic) -> MemoryBackend:
        """Build from the ``[cache]`` options (``MemoryOptions``); keys meant for other backends are
        not ours and are left out (the fallback memory shares the table with Redis's options)."""
        from hotcrm_ai.builtins.memory_cache import MemoryOptions
        from hotcrm_ai.options import option_names, parse_options

        ours = {k: v for k, v in options.items() if k in option_names(MemoryOptions)}
        opts = parse_options(MemoryOptions, ours, section="cache")
        return cls(opts.max_entries, max_bytes=opts.max_bytes, max_value_bytes=opts.max_value_bytes, clock=clock)

    def __repr__(self) -> str:
        return f"MemoryBackend(max_entries={self.max_entries}, max_bytes={self.max_bytes})"

    # -- internals (lock held) -------------------------------------------------------------------
    def _drop(self, key: str) -> None:
        _, value = self._data.pop(key)
        self._bytes -= len(key) + len(value)

    def _sweep(self, now: float) -> None:
        expired = [k for k, (exp, _) in self._data.items() if exp <= now]
        for key in expired:
            self._drop(key)
        self._expirations += len(expired)
        self._soonest = min((exp for exp, _ in self._data.values()), default=math.inf)

    def _make_room(self, now: float) -> None:
        if (
            (len(self._data) > self.max_entries or self._bytes > self.max_bytes)
            and now >= self._next_sweep
            and now >= self._soonest
        ):
            # the scan is O(entries): on a full cache, doing it on every write made each set ~300x slower
            self._sweep(now)
            self._next_sweep = now + SWEEP_INTERVAL_S
        data = self._data
        while data and (len(data) > self.max_entries or self._bytes > self.max_bytes):
            key, (_, value) = data.popitem(last=False)  # the least recently used
            self._bytes -= len(key) + len(value)
            self._evictions += 1

    # -- CacheBackend ----------------------------------------------------------------------------
    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        now = self._clock()
        out: list[bytes | None] = []
        with self._lock:
            data = self._data
            for key in keys:
                entry = data.get(key)
                if entry is None:
                    out.append(None)
                elif entry[0] <= now:
                    self._drop(key)
                    self._expirations += 1
                    out.append(None)
                else:
                    data.move_to_end(key)
                    out.append(entry[1])
        return out

    def get(self, key: str) -> bytes | None:
        """One key (the manager's single-lookup fast path); same rules as ``get_many``."""
        now = self._clock()
        lock = self._lock
        lock.acquire()  # not ``with``: its method lookups cost more than this section
        try:
            entry = self._data.get(key)
            if entry is None:
                return None
            if entry[0] <= now:
                self._drop(key)
                self._expirations += 1
                return None
            self._data.move_to_end(key)
            return entry[1]
        finally:
            lock.release()

    def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        now = self._clock()
        lock = self._lock
        lock.acquire()  # not ``with``: its method lookups cost more than this section
        try:
            data = self._data
            for key, value, ttl_s in items:
                old = data.pop(key, None)
                if old is not None:
                    self._bytes -= len(key) + len(old[1])
                if ttl_s <= 0:
                    continue
                if len(value) > self.max_value_bytes:
                    self._oversize += 1
                    continue
                expires = now + ttl_s
                if expires < self._soonest:
                    self._soonest = expires
                # kept as an exact-size copy: a producer's buffer may be far larger than its bytes
                # (orjson's output holds a 4 KB allocation for any length), and the bound counts bytes
                data[key] = (expires, bytes(memoryview(value)))
                self._bytes += len(key) + len(value)
            if len(data) > self.max_entries or self._bytes > self.max_bytes:
                self._make_room(now)
        finally:
            lock.release()

    def delete(self, key: str) -> bool:
        with self._lock:
            if key in self._data:
                self._drop(key)
                return True
            return False

    def clear(self, tenant: str | None = None) -> int:
        """Remove every entry of this instance (each instance owns its own dict and nothing else), or
        only ``tenant``'s prediction entries."""
        with self._lock:
            if tenant is None:
                count = len(self._data)
                self._data.clear()
                self._bytes = 0
                return count
        from hotcrm_ai.cache.keys import is_cache_key

        with self._lock:  # a namespace has no ':', so a key's namespace is its first component
            doomed = [k for k in self._data if is_cache_key(k, k.split(":", 1)[0], tenant)]
            for k in doomed:
                self._drop(k)
            return len(doomed)

    def ttl(self, key: str) -> float | None:
        """Seconds left for ``key``, or ``None`` when absent or expired (for tests and debugging)."""
        with self._lock:
            entry = self._data.get(key)
        if entry is None:
            return None
        left = entry[0] - self._clock()
        return left if left > 0 else None

    def stats(self) -> dict[str, Any]:
        with self._lock:
            self._sweep(self._clock())
            return {
                "size": len(self._data),
                "bytes": self._bytes,
                "max_entries": self.max_entries,
                "max_bytes": self.max_bytes,
                "evictions": self._evictions,
                "expirations": self._expirations,
                "oversize_skipped": self._oversize,
            }

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        self.clear()
