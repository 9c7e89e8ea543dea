"""Redis faults against a redis-server each test owns: down at start, killed, paused (SIGSTOP), slow.

In every case the cache keeps answering from memory without raising, no call waits much longer
than the socket timeout, the fault shows in stats and health, and once Redis answers again the
manager goes back to it within a few seconds. Time bounds are generous for loaded CI machines:
``socket timeout + 0.5 s`` per call (the timeout itself is 0.1 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from support.cache import RedisServer, unique_namespace

from hotcrm_ai.cache import CacheManager
from hotcrm_ai.config import CacheSettings
from hotcrm_ai_plugins.redis_cache import backend_spec

SOCKET_TIMEOUT = 0.1
BOUND = SOCKET_TIMEOUT + 0.5  # the most any single cache call may take while Redis misbehaves
RETRY_AFTER = 0.3
T = TypeVar("T")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    srv = RedisServer(tmp_path)
    yield srv
    srv.stop()


def build(server: RedisServer) -> CacheManager:
    settings = CacheSettings(
        backend="redis",
        namespace=unique_namespace("fault"),
        retry_backend_after_s=RETRY_AFTER,
        options={"url": server.url, "socket_timeout_s": SOCKET_TIMEOUT, "socket_connect_timeout_s": SOCKET_TIMEOUT},
    )
    return CacheManager.from_specs({"redis": backend_spec()}, settings)


class Timer:
    """Runs cache calls and remembers the slowest one."""

    def __init__(self) -> None:
        self.slowest = 0.0
        self.calls = 0

    def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        start = time.perf_counter()
        result = fn(*args)
        self.slowest = max(self.slowest, time.perf_counter() - start)
        self.calls += 1
        return result


def key(m: CacheManager, i: int) -> str:
    return m.key(tenant="acme", model_id="m", model_version="1", features={"i": i})


def wait_for_redis(m: CacheManager, timer: Timer, within_s: float = 5.0) -> float:
    """Keep using the cache until it is back on Redis; returns how long that took."""
    start = time.monotonic()
    i = 0
    while m.active_backend != "redis" or m.degraded:
        assert time.monotonic() - start < within_s, f"not back on redis after {within_s}s: {m.health()}"
        timer(m.get, key(m, 10_000 + i))
        i += 1
        time.sleep(0.02)
    return time.monotonic() - start


def test_down_at_start_then_comes_up(server: RedisServer) -> None:
    m = build(server)  # nothing listens on the port yet
    timer = Timer()
    assert timer(m.get, key(m, 1)) is None
    timer(m.set, key(m, 1), {"v": "memory"}, 60)
    assert timer(m.get, key(m, 1)) == {"v": "memory"}
    health = m.health()
    assert health["status"] == "degraded" and health["active_backend"] == "memory"
    assert "ConnectionError" in (m.stats().last_error or "")
    server.start()
    took = wait_for_redis(m, timer)
    assert took < 3.0
    m.set(key(m, 2), {"v": "redis"}, 60)
    assert server.client().exists(key(m, 2)) == 1
    assert m.stats().recoveries == 1
    assert timer.slowest < BOUND, timer.slowest
    m.close()


def test_killed_mid_run_then_restarted(server: RedisServer) -> None:
    server.start()
    m = build(server)
    timer = Timer()
    m.set(key(m, 1), {"v": 1}, 60)
    assert m.get(key(m, 1)) == {"v": 1}
    server.kill()
    for i in range(20):  # keep serving: misses for what only Redis had, hits for what memory gets now
        assert timer(m.get, key(m, 1)) is None
        timer(m.set, key(m, 100 + i), {"i": i}, 60)
        assert timer(m.get, key(m, 100 + i)) == {"i": i}
    stats = m.stats()
    assert stats.degraded and stats.errors >= 1 and stats.fallbacks >= 60 and stats.active_backend == "memory"
    server.start()
    wait_for_redis(m, timer)
    m.set(key(m, 2), {"v": 2}, 60)
    assert server.client().get(key(m, 2)) is not None
    assert m.get(key(m, 2)) == {"v": 2}
    assert timer.slowest < BOUND, timer.slowest
    m.close()


def test_paused_with_sigstop_no_call_waits_past_the_timeout(server: RedisServer) -> None:
    server.start()
    m = build(server)
    timer = Timer()
    m.set(key(m, 1), {"v": 1}, 60)
    server.pause()
    try:
        for i in range(15):
            timer(m.get, key(m, 1))
            timer(m.set, key(m, 200 + i), {"i": i}, 60)
            time.sleep(0.03)  # spans several probe periods: each probe is bounded too
        assert m.degraded
        assert "Timeout" in (m.stats().last_error or "")
        assert timer.slowest < BOUND, timer.slowest
    finally:
        server.resume()
    wait_for_redis(m, timer)
    assert m.get(key(m, 1)) == {"v": 1}  # paused, not lost: Redis still has it
    assert timer.slowest < BOUND, timer.slowest
    m.close()


def test_paused_under_concurrency(server: RedisServer) -> None:
    server.start()
    m = build(server)
    m.set(key(m, 1), {"v": 1}, 60)
    timers = [Timer() for _ in range(8)]
    errors: list[BaseException] = []

    def worker(timer: Timer) -> None:
        try:
            for i in range(25):
                timer(m.get, key(m, i % 3))
                timer(m.set, key(m, 50 + i), {"i": i}, 60)
                time.sleep(0.005)
        except BaseException as exc:  # asserted below: nothing may escape the cache
            errors.append(exc)

    server.pause()
    try:
        threads = [threading.Thread(target=worker, args=(t,)) for t in timers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        server.resume()
    assert errors == []
    assert max(t.slowest for t in timers) < BOUND
    assert sum(t.calls for t in timers) == 8 * 50
    wait_for_redis(m, Timer())
    m.close()


def test_slow_server_times_out_to_memory(server: RedisServer) -> None:
    server.start()
    m = build(server)
    m.set(key(m, 1), {"v": 1}, 60)
    blocker = server.client()
    sleeper = threading.Thread(target=lambda: blocker.execute_command("DEBUG", "SLEEP", "1.0"))
    sleeper.start()
    time.sleep(0.1)  # the server is now busy for a second
    timer = Timer()
    assert timer(m.get, key(m, 1)) is None
    assert m.degraded and timer.slowest < BOUND
    sleeper.join(5)
    wait_for_redis(m, timer)
    assert m.get(key(m, 1)) == {"v": 1}
    m.close()


def test_stats_and_clear_while_down_do_not_raise(server: RedisServer) -> None:
    server.start()
    m = build(server)
    m.set(key(m, 1), {"v": 1}, 60)
    server.kill()
    timer = Timer()
    stats = timer(m.stats)
    assert stats.backend == "redis"
    m.get(key(m, 1))
    assert timer(m.clear) == 0
    stats = timer(m.stats)
    assert stats.degraded and stats.backend_stats == {} and stats.retry_in_s is not None
    assert timer.slowest < BOUND
    m.close()
