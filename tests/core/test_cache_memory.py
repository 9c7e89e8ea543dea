"""The in-memory backend: TTL (injected clock), LRU bounds, thread safety, stats, and its plugin hook."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from support.cache import FakeClock

from hotcrm_ai.builtins import memory_cache
from hotcrm_ai.cache.memory import MemoryBackend
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.interfaces import CacheBackend


def test_is_a_cache_backend() -> None:
    assert isinstance(MemoryBackend(), CacheBackend)


def test_ttl_with_injected_clock() -> None:
    clock = FakeClock()
    mem = MemoryBackend(clock=clock)
    mem.set_many([("a", b"1", 10.0), ("b", b"2", 5.0)])
    clock.advance(4.999)
    assert mem.get_many(["a", "b"]) == [b"1", b"2"]
    assert mem.ttl("a") == pytest.approx(5.001)
    clock.advance(0.001)  # exactly at expiry: gone (expires_at <= now)
    assert mem.get_many(["a", "b"]) == [b"1", None]
    clock.advance(5.0)
    assert mem.get("a") is None
    stats = mem.stats()
    assert stats["size"] == 0 and stats["expirations"] == 2 and stats["bytes"] == 0


def test_stats_sweeps_expired_entries() -> None:
    clock = FakeClock()
    mem = MemoryBackend(clock=clock)
    mem.set_many([(f"k{i}", b"v", 1.0) for i in range(5)] + [("live", b"v", 100.0)])
    clock.advance(2)
    assert mem.stats()["size"] == 1
    assert mem.stats()["expirations"] == 5


def test_lru_eviction_by_entries() -> None:
    mem = MemoryBackend(max_entries=3)
    mem.set_many([("a", b"1", 60), ("b", b"2", 60), ("c", b"3", 60)])
    assert mem.get("a") == b"1"  # a is now most recently used
    mem.set_many([("d", b"4", 60)])
    assert mem.get_many(["a", "b", "c", "d"]) == [b"1", None, b"3", b"4"]
    assert mem.stats()["evictions"] == 1
    assert mem.stats()["size"] == 3


def test_expired_entries_go_before_live_ones_are_evicted() -> None:
    clock = FakeClock()
    mem = MemoryBackend(max_entries=2, clock=clock)
    mem.set_many([("old", b"1", 1), ("live", b"2", 100)])
    clock.advance(5)
    mem.set_many([("new", b"3", 100)])
    assert mem.get_many(["live", "new"]) == [b"2", b"3"]
    stats = mem.stats()
    assert stats["evictions"] == 0 and stats["expirations"] == 1


def test_byte_bound_and_oversize_values() -> None:
    mem = MemoryBackend(max_entries=1000, max_bytes=100, max_value_bytes=60)
    mem.set_many([("k1", b"x" * 40, 60), ("k2", b"y" * 40, 60)])
    assert mem.stats()["bytes"] == 84
    mem.set_many([("k3", b"z" * 40, 60)])  # 126 bytes > 100: k1 goes
    assert mem.get_many(["k1", "k2", "k3"]) == [None, b"y" * 40, b"z" * 40]
    mem.set_many([("big", b"b" * 61, 60)])
    assert mem.get("big") is None
    stats = mem.stats()
    assert stats["oversize_skipped"] == 1 and stats["bytes"] <= 100 and stats["evictions"] == 1


def test_zero_ttl_removes_and_does_not_store() -> None:
    mem = MemoryBackend()
    mem.set_many([("a", b"1", 60)])
    mem.set_many([("a", b"2", 0), ("b", b"2", -1)])
    assert mem.get_many(["a", "b"]) == [None, None]


def test_overwrite_replaces_value_and_ttl() -> None:
    clock = FakeClock()
    mem = MemoryBackend(clock=clock)
    mem.set_many([("a", b"first", 5)])
    mem.set_many([("a", b"second!", 50)])
    clock.advance(10)
    assert mem.get("a") == b"second!"
    assert mem.stats()["bytes"] == len("a") + len("second!")


def test_delete_and_clear_only_own_entries() -> None:
    one, two = MemoryBackend(), MemoryBackend()
    one.set_many([("a", b"1", 60), ("b", b"2", 60)])
    two.set_many([("a", b"9", 60)])
    assert one.delete("a") is True and one.delete("a") is False
    assert one.clear() == 1
    assert one.get("b") is None
    assert two.get("a") == b"9"


def test_thread_safety_bounds_and_accounting_hold() -> None:
    mem = MemoryBackend(max_entries=64)
    keys = [f"k{i}" for i in range(200)]
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(3000):
                k = rng.choice(keys)
                op = rng.random()
                if op < 0.5:
                    mem.set_many([(k, k.encode() * rng.randint(1, 5), 60)])
                elif op < 0.9:
                    value = mem.get(k)
                    assert value is None or value.startswith(k.encode())
                else:
                    mem.delete(k)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stats = mem.stats()
    present = {k: v for k, v in zip(keys, mem.get_many(keys), strict=True) if v is not None}
    assert stats["size"] == len(present) <= 64
    assert stats["bytes"] == sum(len(k) + len(v) for k, v in present.items())
    assert stats["evictions"] > 0


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True])
def test_bounds_validated(bad: Any) -> None:
    with pytest.raises(ConfigError, match="max_entries"):
        MemoryBackend.from_options({"max_entries": bad})


def test_registered_through_the_hook_and_built_from_options() -> None:
    specs: list[Any] = []
    memory_cache.register_cache_backends(specs.append)
    assert [s.name for s in specs] == ["memory"]
    backend = specs[0].factory({"max_entries": 7, "max_bytes": 1000, "url": "ignored: meant for redis"})
    assert isinstance(backend, MemoryBackend)
    assert backend.max_entries == 7 and backend.max_bytes == 1000


def _counting_sweeps(scanned: list[int], **kwargs: Any) -> MemoryBackend:
    """A memory backend that appends its size to ``scanned`` at every expiry scan."""

    class Counting(MemoryBackend):
        def _sweep(self, now: float) -> None:
            scanned.append(len(self._data))
            super()._sweep(now)

    return Counting(**kwargs)


def test_full_cache_does_not_scan_every_entry_on_every_write() -> None:
    """Review regression: at capacity each set ran an O(entries) expiry scan (a set cost ~300x more).
    Scans are now at most one per SWEEP_INTERVAL_S, and none before an entry can have expired;
    expired entries are still removed by them."""
    from hotcrm_ai.cache.memory import SWEEP_INTERVAL_S

    clock = FakeClock()
    scanned: list[int] = []
    b = _counting_sweeps(scanned, max_entries=100, clock=clock)
    b.set_many([(f"short{i}", b"v", 5.0) for i in range(50)])
    b.set_many([(f"k{i}", b"v", 600.0) for i in range(50)])
    for i in range(1000):  # full: every write evicts
        b.set_many([(f"x{i}", b"v", 600.0)])
    assert scanned == [] and len(b._data) == 100  # nothing can have expired yet: no scan at all
    clock.advance(SWEEP_INTERVAL_S + 5)  # the short entries are gone after the next scan
    b.set_many([("late", b"v", 600.0)])
    assert len(scanned) == 1 and b.get("late") == b"v"
    assert all(b.get(f"short{i}") is None for i in range(50))


def test_full_cache_scans_when_an_entry_can_have_expired() -> None:
    """The scan waits for the soonest expiry, then removes the expired entries (not live ones)."""
    clock = FakeClock()
    scanned: list[int] = []
    b = _counting_sweeps(scanned, max_entries=10, clock=clock)
    b.set_many([(f"long{i}", b"v", 600.0) for i in range(5)])
    b.set_many([(f"short{i}", b"v", 100.0) for i in range(5)])
    for i in range(20):
        clock.advance(2.0)  # more than the scan interval each time
        b.get("long0")  # keeps long0 most recently used
        b.set_many([(f"x{i}", b"v", 600.0)])
    assert scanned == []  # 40 s of writes to a full cache, none expired: evictions only, no scan
    assert b.get("long0") == b"v" and b._evictions == 20
    b2 = _counting_sweeps(scanned, max_entries=10, clock=clock)
    b2.set_many([(f"long{i}", b"v", 600.0) for i in range(5)] + [(f"short{i}", b"v", 30.0) for i in range(5)])
    clock.advance(31.0)
    b2.set_many([("new", b"v", 600.0)])  # full: the expired short entries make room, no live one goes
    assert len(scanned) == 1 and b2._evictions == 0
    assert all(b2.get(f"long{i}") == b"v" for i in range(5)) and b2.get("new") == b"v"
