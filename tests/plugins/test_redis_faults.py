"""Redis faults against a redis-server each test owns: down at start, killed, paused (SIGSTOP), slow.

In every case the cache keeps answering from memory without raising, no call waits much longer
than the socket timeout, the fault shows in stats and health, and once Redis answers again the
manager goes back to it within a few seconds. Time bounds are generous for loaded CI machines:
``socket timeout + 0.5 s`` per call (the timeout itself is 0.1 s).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
from support.cache import RedisServer, unique_namespace

from hotcrm_ai.cache import CacheManager
from hotcrm_ai.config import CacheSettings
from hotcrm_ai_plugins.redis_cache import RedisBackend, backend_spec, redis_backend

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


# -- the connections kept for single lookups ---------------------------------------------------


def backend_for(server: RedisServer, **options: Any) -> RedisBackend:
    return redis_backend(
        {"url": server.url, "namespace": unique_namespace("lane"), "socket_timeout_s": SOCKET_TIMEOUT, **options}
    )


def test_a_timed_out_lookup_never_leaves_its_late_reply_for_the_next(server: RedisServer) -> None:
    """The reply to a GET that timed out arrives later on that socket: the connection is dropped, so the
    next lookup reads its own reply, not the stale one."""
    backend = backend_for(server.start())
    try:
        backend.set_many([("k1", b"one", 60), ("k2", b"two", 60)])
        assert backend.get("k1") == b"one"
        server.pause()
        with pytest.raises(redis.TimeoutError):
            backend.get("k1")
        with pytest.raises(redis.TimeoutError):
            backend.get_many(["k1", "k2"])
        server.resume()
        time.sleep(0.05)  # the late replies are on the old sockets by now
        assert backend.get("k2") == b"two"
        assert backend.get_many(["k2", "k1", "nope"]) == [b"two", b"one", None]
    finally:
        backend.close()


def test_a_read_that_timed_out_is_not_repeated(server: RedisServer) -> None:
    """Only a connection the server closed is replaced and its read run again: a timeout is not (the
    paused server would otherwise receive the GET twice and the caller wait twice)."""
    backend = backend_for(server.start())
    try:
        backend.set_many([("k", b"v", 60)])
        assert backend.get("k") == b"v"  # one connection parked
        before = server.command_calls("get")
        server.pause()
        with pytest.raises(redis.TimeoutError):
            backend.get("k")
        server.resume()
        time.sleep(0.05)
        assert server.command_calls("get") - before == 1
    finally:
        backend.close()


def test_parked_connections_of_a_restarted_server_are_replaced(server: RedisServer) -> None:
    """Every parked connection is dead after a restart: each read replaces its connection once and
    succeeds, and the manager never counts a fault."""
    m = build(server.start())
    try:
        k = key(m, 1)
        barrier = threading.Barrier(4)

        def read() -> None:
            barrier.wait()
            for _ in range(20):
                m.get(k)

        threads = [threading.Thread(target=read) for _ in range(4)]  # several connections get parked
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        server.restart()
        m.set(k, {"v": 2}, 60)
        assert [m.get(k) for _ in range(10)] == [{"v": 2}] * 10
        assert not m.degraded and m.stats().errors == 0
    finally:
        m.close()


def test_a_parked_connection_the_server_closed_is_replaced_not_a_fault(server: RedisServer) -> None:
    m = build(server.start())
    try:
        k = key(m, 1)
        m.set(k, {"v": 1}, 60)
        assert m.get(k) == {"v": 1}
        client = server.client()
        killed = client.client_kill_filter(_type="normal", skipme=True)  # our parked connection among them
        assert killed >= 1
        assert m.get(k) == {"v": 1} and m.get_many([k]) == [{"v": 1}]
        assert not m.degraded and m.stats().errors == 0
    finally:
        m.close()


def test_lookups_from_many_threads_park_a_bounded_number_of_connections(server: RedisServer) -> None:
    """Connections parked for lookups are capped at a quarter of the pool, so the rest stays free for
    pipelines and the other commands."""
    backend = backend_for(server.start(), max_connections=8, pool_timeout_s=5.0, socket_timeout_s=5.0)
    backend.set_many([("shared", b"x", 60)])
    errors: list[BaseException] = []
    found: list[bool] = []

    def read() -> None:
        try:
            for _ in range(100):
                found.append(backend.get("shared") == b"x" and backend.get_many(["shared"]) == [b"x"])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors and len(found) == 800 and all(found)
        assert 1 <= len(backend._lane._idle) <= 2  # parked: at most 8 // 4
        backend.set_many([(f"w{i}", b"y", 60) for i in range(3)])
        assert backend.get_many(["w0", "w2"]) == [b"y", b"y"]
    finally:
        backend.close()
    assert backend._lane._idle == []


def test_a_forked_child_opens_its_own_connection(server: RedisServer) -> None:
    """After a fork the parent's parked socket is not shared: the child reads through a new one."""
    backend = backend_for(server.start())
    try:
        backend.set_many([("k", b"v", 60)])
        parent_id = backend._lane.command("CLIENT", "ID")
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            ok = backend.get("k") == b"v" and backend._lane.command("CLIENT", "ID") != parent_id
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
        os.close(write)
        assert os.read(read, 1) == b"1"
        os.waitpid(pid, 0)
        os.close(read)
        assert backend._lane.command("CLIENT", "ID") == parent_id and backend.get("k") == b"v"
    finally:
        backend.close()
