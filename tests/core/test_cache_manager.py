"""The cache manager: values, accounting, degradation to memory and recovery, decode failures, single flight.

Backend failures come from ``SwitchableBackend`` (tests/support/cache.py), a real CacheBackend plugin
implementation that raises while broken: a stand-in for a plugin, never for the manager under test.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import attrs
import pytest
from support.cache import FakeClock, SwitchableBackend

from hotcrm_ai.cache import CacheManager, MemoryBackend
from hotcrm_ai.cache.codec import encode
from hotcrm_ai.config import CacheSettings
from hotcrm_ai.descriptors import CacheBackendSpec
from hotcrm_ai.errors import ConfigError, ValidationError
from hotcrm_ai.types import HealthReport

RETRY = 2.0


def settings(**kw: Any) -> CacheSettings:
    return CacheSettings(**{"retry_backend_after_s": RETRY, **kw})


def manager(backend: Any = None, clock: FakeClock | None = None, **kw: Any) -> CacheManager:
    return CacheManager(backend if backend is not None else MemoryBackend(), settings(**kw), clock=clock or FakeClock())


def k(m: CacheManager, tenant: str | None = "acme", **features: Any) -> str:
    return m.key(tenant=tenant, model_id="m", model_version="1", features=features or {"x": 1})


# -- values and accounting ------------------------------------------------------------------------


def test_round_trip_and_counters() -> None:
    m = manager()
    key = k(m)
    assert m.get(key) is None
    m.set(key, {"prediction": {"p": 0.7}, "confidence": 40.0, "tags": ["a", "é"]}, 60)
    assert m.get(key) == {"prediction": {"p": 0.7}, "confidence": 40.0, "tags": ["a", "é"]}
    stats = m.stats()
    assert (stats.hits, stats.misses, stats.sets, stats.size, stats.hit_rate) == (1, 1, 1, 1, 50.0)
    assert stats.backend == "memory" and stats.active_backend == "memory" and not stats.degraded


def test_get_many_keeps_order_and_set_many_stores_all() -> None:
    m = manager()
    keys = [k(m, x=i) for i in range(5)]
    m.set_many([(keys[i], {"i": i}, 60) for i in (0, 2, 4)])
    assert m.get_many(keys) == [{"i": 0}, None, {"i": 2}, None, {"i": 4}]
    assert m.get_many([]) == []
    assert m.stats().hits == 3 and m.stats().misses == 2


def test_attrs_values_go_through_the_converter() -> None:
    m = manager()
    report = HealthReport(healthy=True, latency_ms=12.5)
    m.set("key", report, 60)
    assert m.get("key", HealthReport) == report
    assert m.get("key") == {**attrs.asdict(report)}


@pytest.mark.parametrize("value", [None, {"bad": float("nan")}, {"obj": object()}])
def test_unstorable_values_are_skipped_without_raising(value: Any) -> None:
    m = manager()
    m.set("key", value, 60)
    assert m.get("key") is None
    assert m.stats().skipped == 1 and m.stats().sets == 0


@pytest.mark.parametrize("ttl", [0, -5])
def test_non_positive_ttl_is_not_stored(ttl: float) -> None:
    backend = SwitchableBackend()
    m = manager(backend)
    m.set("key", {"a": 1}, ttl)
    assert backend.data == {} and "set_many" not in backend.calls


@pytest.mark.parametrize("ttl", [float("nan"), float("inf"), 10**400, "60", b"60"])
def test_non_finite_or_non_numeric_ttl_is_skipped_not_stored_forever(ttl: Any) -> None:
    """Review regression: NaN was stored with no expiry, 10**400 raised OverflowError and "60" TypeError
    out of ``set`` (documented as never raising)."""
    backend = SwitchableBackend()
    m = manager(backend)
    m.set("key", {"a": 1}, ttl)
    assert backend.data == {} and "set_many" not in backend.calls
    assert m.stats().skipped == 1


def test_default_ttl_applies_when_none() -> None:
    clock = FakeClock()
    mem = MemoryBackend(clock=clock)
    m = manager(mem, clock, default_ttl_s=30.0)
    m.set("key", {"a": 1})
    assert mem.ttl("key") == pytest.approx(30.0)


def test_disabled_always_misses_and_never_stores() -> None:
    backend = SwitchableBackend()
    m = manager(backend, enabled=False)
    m.set("key", {"a": 1}, 60)
    assert m.get("key") is None
    assert backend.total_calls() == 0
    calls = []
    for _ in range(3):
        assert m.get_or_compute("key", lambda: (calls.append(1) or {"v": 1}, 60)).source == "computed"
    assert len(calls) == 3
    assert m.health()["status"] == "disabled"


# -- values that are not ours ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"\x80\x81 not json",
        b'{"a": 1}',
        b'"just a string"',
        b'{"v": 99, "d": 1}',
        b'{"v": 1, "d": 1, "x": 2}',
        b"{trunc",
    ],
)
def test_foreign_or_truncated_value_is_a_counted_miss_and_removed(raw: bytes) -> None:
    mem = MemoryBackend()
    m = manager(mem)
    mem.set_many([("key", raw, 60)])
    assert m.get("key") is None
    assert m.stats().decode_errors == 1 and m.stats().misses == 1
    assert mem.get("key") is None  # removed, so the next writer starts clean


def test_value_not_matching_requested_type_is_a_miss() -> None:
    m = manager()
    m.set("key", {"healthy": "very"}, 60)
    assert m.get("key", HealthReport) is None
    assert m.stats().decode_errors == 1


def test_garbage_is_overwritten_by_get_or_compute() -> None:
    mem = MemoryBackend()
    m = manager(mem)
    mem.set_many([("key", b"garbage", 60)])
    got = m.get_or_compute("key", lambda: ({"fresh": True}, 60))
    assert got.value == {"fresh": True} and got.source == "computed"
    assert mem.get("key") == encode({"fresh": True})
    assert m.get("key") == {"fresh": True}


# -- degradation and recovery ---------------------------------------------------------------------


def test_fault_serves_from_memory_and_never_raises() -> None:
    backend = SwitchableBackend()
    m = manager(backend)
    key = k(m)
    m.set(key, {"v": "from backend"}, 60)
    backend.broken = True
    assert m.get(key) is None  # fault: a miss, not an exception
    m.set(key, {"v": "from memory"}, 60)
    assert m.get(key) == {"v": "from memory"}
    assert m.get_many([key, "other"]) == [{"v": "from memory"}, None]
    assert m.delete(key) is True
    assert m.clear() == 0
    stats = m.stats()
    assert stats.degraded and stats.active_backend == "memory" and stats.backend == "memory"
    assert stats.errors >= 1 and stats.fallbacks >= 4
    assert stats.retry_in_s == pytest.approx(RETRY)
    health = m.health()
    assert health["status"] == "degraded" and health["active_backend"] == "memory"


def test_last_error_is_redacted() -> None:
    backend = SwitchableBackend()
    m = manager(backend)
    backend.broken = True
    m.get("key")
    stats = m.stats()
    assert stats.last_error is not None and "ConnectionError" in stats.last_error
    assert "hunter2" not in stats.last_error and "cacheuser:***@" not in stats.last_error
    assert "redis://***@10.0.0.5" in stats.last_error
    assert "hunter2" not in repr(stats) and "hunter2" not in str(m.health())


def test_one_probe_per_cool_down_then_recovery() -> None:
    clock = FakeClock()
    backend = SwitchableBackend()
    m = manager(backend, clock)
    backend.broken = True
    m.get("a")
    failing_calls = backend.total_calls()
    for _ in range(100):  # during the cool-down the backend is not touched at all
        m.get("a")
        m.set("a", {"x": 1}, 60)
    assert backend.total_calls() == failing_calls
    clock.advance(RETRY)
    m.get("a")  # due: exactly one probe, which fails
    assert backend.calls.get("ping") == 1
    assert m.degraded
    m.get("a")
    assert backend.calls.get("ping") == 1  # next probe is a full cool-down away
    backend.broken = False
    clock.advance(RETRY - 0.01)
    m.get("a")
    assert backend.calls.get("ping") == 1 and m.degraded
    clock.advance(0.01)
    m.set("b", {"back": True}, 60)  # probe succeeds; this write goes to the backend
    assert not m.degraded and m.active_backend == "switchable"
    assert "b" in backend.data
    assert m.get("a") is None  # the fallback's entries were dropped on recovery
    assert m.stats().recoveries == 1 and m.stats().fallback_stats["size"] == 0


def test_only_one_caller_probes_while_others_use_memory() -> None:
    clock = FakeClock()
    backend = SwitchableBackend()
    m = manager(backend, clock)
    backend.broken = True
    m.get("a")
    backend.broken = False
    backend.ping_gate = threading.Event()
    clock.advance(RETRY)
    prober = threading.Thread(target=m.get, args=("a",))
    prober.start()
    deadline = time.monotonic() + 5
    while m._probing is False and time.monotonic() < deadline:
        time.sleep(0.001)
    assert m._probing
    before = backend.total_calls()
    for _ in range(50):  # everyone else keeps going on memory while the probe is out
        assert m.get("a") is None
    assert backend.total_calls() == before
    backend.ping_gate.set()
    prober.join(5)
    assert backend.calls["ping"] == 1 and not m.degraded


def test_backend_returning_wrong_number_of_values_is_a_fault() -> None:
    class Short(SwitchableBackend):
        def get_many(self, keys: Any) -> list[bytes | None]:
            return []

    m = manager(Short())
    assert m.get_many(["a", "b"]) == [None, None]
    assert m.degraded and "2 keys" in (m.stats().last_error or "")


def test_stats_fault_degrades_without_raising() -> None:
    backend = SwitchableBackend()
    m = manager(backend)
    backend.broken = True
    stats = m.stats()
    assert stats.degraded and stats.backend_stats == {} and stats.size == 0


def test_clear_tries_the_backend_even_while_degraded() -> None:
    clock = FakeClock()
    backend = SwitchableBackend()
    m = manager(backend, clock)
    backend.data["x"] = b"1"
    backend.broken = True
    m.get("k")
    m.set("k", {"v": 1}, 60)  # lands in the fallback
    backend.broken = False
    assert m.clear() == 2  # one from the fallback, one from the backend
    assert backend.data == {}


# -- building from specs --------------------------------------------------------------------------


def test_from_specs_unknown_backend_names_it_and_the_installed_ones() -> None:
    specs = {"memory": CacheBackendSpec("memory", lambda o: MemoryBackend())}
    with pytest.raises(ConfigError) as err:
        CacheManager.from_specs(specs, CacheSettings(backend="redis"))
    assert "'redis'" in str(err.value) and "installed: memory" in str(err.value)


def test_from_specs_passes_options_namespace_and_bounds() -> None:
    seen: list[dict[str, Any]] = []

    def factory(options: Any) -> MemoryBackend:
        seen.append(dict(options))
        return MemoryBackend.from_options(options)

    m = CacheManager.from_specs(
        {"memory": CacheBackendSpec("memory", factory)},
        CacheSettings(namespace="tenant-app", max_entries=50, options={"max_bytes": 4096}),
    )
    assert seen == [{"max_entries": 50, "max_bytes": 4096, "namespace": "tenant-app"}]
    assert m.key(tenant=None, model_id="m", model_version="1", features={}).startswith("tenant-app:v2:_:m:1:")


def test_from_specs_config_error_from_factory_is_raised() -> None:
    def factory(options: Any) -> MemoryBackend:
        raise ConfigError("[cache] url: expected a redis:// URL")

    with pytest.raises(ConfigError, match="url"):
        CacheManager.from_specs({"x": CacheBackendSpec("x", factory)}, CacheSettings(backend="x"))


def test_from_specs_backend_down_at_start_degrades_then_rebuilds() -> None:
    clock = FakeClock()
    state = {"up": False, "builds": 0}
    backend = SwitchableBackend()

    def factory(options: Any) -> SwitchableBackend:
        state["builds"] += 1
        if not state["up"]:
            raise ConnectionRefusedError("redis://:s3cret@cache:6379 refused")
        return backend

    m = CacheManager.from_specs({"sw": CacheBackendSpec("sw", factory)}, settings(backend="sw"), clock=clock)
    assert m.degraded and m.active_backend == "memory"
    assert "s3cret" not in (m.stats().last_error or "")
    m.set("a", {"v": 1}, 60)
    assert m.get("a") == {"v": 1}
    clock.advance(RETRY)
    m.get("a")
    assert state["builds"] == 2 and m.degraded
    state["up"] = True
    clock.advance(RETRY)
    m.set("b", {"v": 2}, 60)
    assert state["builds"] == 3 and not m.degraded and "b" in backend.data


def test_from_specs_disabled_builds_nothing() -> None:
    def factory(options: Any) -> MemoryBackend:
        raise AssertionError("must not be built")

    m = CacheManager.from_specs({"x": CacheBackendSpec("x", factory)}, CacheSettings(backend="x", enabled=False))
    assert m.get("a") is None and not m.degraded


@pytest.mark.parametrize("ns", ["has space", "a:b", ""])
def test_bad_namespace_is_a_config_error(ns: str) -> None:
    with pytest.raises(ConfigError, match="namespace"):
        CacheManager(MemoryBackend(), CacheSettings(namespace=ns))


# -- single flight --------------------------------------------------------------------------------


def _run_threads(n: int, fn: Any) -> list[Any]:
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn()
        except BaseException as exc:  # collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def test_concurrent_identical_misses_compute_once() -> None:
    m = manager(MemoryBackend())
    calls: list[int] = []

    def compute() -> tuple[dict[str, int], float]:
        calls.append(1)
        time.sleep(0.2)
        return {"answer": 42}, 60

    results = _run_threads(8, lambda: m.get_or_compute("key", compute))
    assert len(calls) == 1
    assert all(r.value == {"answer": 42} for r in results)
    assert sorted(r.source for r in results) == ["computed"] + ["shared"] * 7
    assert m.get_or_compute("key", compute).source == "cache"
    assert len(calls) == 1 and m.stats().single_flight_shared == 7


def test_different_keys_do_not_wait_for_each_other() -> None:
    m = manager(MemoryBackend())
    calls: list[str] = []
    results = _run_threads(
        4, lambda: m.get_or_compute(f"key-{threading.get_ident()}", lambda: (calls.append("x") or {"v": 1}, 60))
    )
    assert len(calls) == 4 and all(r.source == "computed" for r in results)


def test_leader_exception_reaches_waiters_and_nothing_is_stored() -> None:
    m = manager(MemoryBackend())
    calls: list[int] = []

    def compute() -> tuple[Any, float]:
        calls.append(1)
        time.sleep(0.2)
        raise TimeoutError("provider timed out")

    results = _run_threads(6, lambda: m.get_or_compute("key", compute))
    assert len(calls) == 1
    assert all(isinstance(r, TimeoutError) for r in results)
    assert m.get("key") is None


def test_zero_ttl_answer_is_shared_but_not_stored() -> None:
    m = manager(MemoryBackend())
    calls: list[int] = []

    def compute() -> tuple[Any, float]:
        calls.append(1)
        time.sleep(0.2)
        return {"degraded": True}, 0

    results = _run_threads(5, lambda: m.get_or_compute("key", compute))
    assert len(calls) == 1 and all(r.value == {"degraded": True} for r in results)
    assert m.get("key") is None


def test_single_flight_still_works_while_degraded() -> None:
    backend = SwitchableBackend()
    m = manager(backend)
    backend.broken = True
    calls: list[int] = []

    def compute() -> tuple[Any, float]:
        calls.append(1)
        time.sleep(0.2)
        return {"v": 1}, 60

    results = _run_threads(6, lambda: m.get_or_compute("key", compute))
    assert len(calls) == 1 and all(r.value == {"v": 1} for r in results)
    assert m.get("key") == {"v": 1}  # stored in the fallback


def test_clear_one_tenant_in_memory_and_refuse_an_unusable_tenant() -> None:
    m = CacheManager.from_specs({"memory": CacheBackendSpec("memory", MemoryBackend.from_options)}, CacheSettings())
    keys = {t: m.key(tenant=t, model_id="m", model_version="1", features={"i": 1}) for t in ("acme", "globex", None)}
    for k in keys.values():
        m.set(k, {"v": 1}, 60)
    assert m.clear("acme") == 1
    assert m.get(keys["acme"]) is None and m.get(keys["globex"]) == {"v": 1} and m.get(keys[None]) == {"v": 1}
    with pytest.raises(ValidationError, match="tenant"):
        m.clear("")
    assert m.clear() == 2
