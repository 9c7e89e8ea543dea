"""The redis backend against the machine's Redis (127.0.0.1:6379), each test in its own namespace.

Every test cleans up after itself and checks that no key of its namespace is left behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from support.cache import REDIS_URL, RedisServer, unique_namespace

from hotcrm_ai.cache import CacheManager
from hotcrm_ai.cache.codec import encode
from hotcrm_ai.config import CacheSettings
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.interfaces import CacheBackend
from hotcrm_ai_plugins.redis_cache import RedisBackend, RedisOptions, backend_spec, redact_url, redis_backend


def build(namespace: str, **options: Any) -> CacheManager:
    settings = CacheSettings(backend="redis", namespace=namespace, options={"url": REDIS_URL, **options})
    return CacheManager.from_specs({"redis": backend_spec()}, settings)


@pytest.fixture
def raw() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def ns(raw: redis.Redis) -> Iterator[str]:
    namespace = unique_namespace()
    yield namespace
    for key in raw.scan_iter(match=f"{namespace}*", count=1000):
        raw.unlink(key)


@pytest.fixture
def cache(ns: str) -> Iterator[CacheManager]:
    manager = build(ns)
    yield manager
    manager.clear()
    manager.close()


def key(m: CacheManager, tenant: str | None = "acme", **features: Any) -> str:
    return m.key(tenant=tenant, model_id="lead-scoring-v1", model_version="1.0.0", features=features or {"x": 1})


def test_backend_satisfies_the_protocol(ns: str) -> None:
    backend = redis_backend({"url": REDIS_URL, "namespace": ns})
    assert isinstance(backend, CacheBackend) and backend.ping()
    backend.close()


def test_round_trip_and_stats(cache: CacheManager, raw: redis.Redis) -> None:
    k = key(cache)
    cache.set(k, {"prediction": {"p": 0.25}, "confidence": 50.0}, 60)
    assert raw.get(k) == encode({"prediction": {"p": 0.25}, "confidence": 50.0})
    assert cache.get(k) == {"prediction": {"p": 0.25}, "confidence": 50.0}
    stats = cache.stats()
    assert (stats.backend, stats.active_backend, stats.degraded) == ("redis", "redis", False)
    assert stats.size == 1 and stats.backend_stats["size_exact"] is True
    assert stats.backend_stats["keys_written"] == 1 and stats.backend_stats["keys_found"] == 1
    assert stats.backend_stats["redis_version"]


def test_ttl_is_set_with_the_value(cache: CacheManager, raw: redis.Redis) -> None:
    k1, k2 = key(cache, x=1), key(cache, x=2)
    cache.set(k1, {"v": 1}, 30)
    cache.set_many([(k2, {"v": 2}, 12.5)])
    assert 29_000 < raw.pttl(k1) <= 30_000
    assert 12_000 < raw.pttl(k2) <= 12_500
    k3 = key(cache, x=3)
    cache.set(k3, {"v": 3}, 0.3)
    assert cache.get(k3) == {"v": 3}
    time.sleep(0.45)
    assert cache.get(k3) is None and raw.exists(k3) == 0


def test_ttl_zero_is_not_stored(cache: CacheManager, raw: redis.Redis) -> None:
    k = key(cache)
    cache.set(k, {"v": 1}, 0)
    assert raw.exists(k) == 0


def test_huge_ttl_is_capped_not_an_outage(cache: CacheManager, raw: redis.Redis) -> None:
    """Review regression: SET PX beyond Redis's range was refused and the manager fell back to memory."""
    k = key(cache)
    cache.set(k, {"v": 1}, 1e300)
    stats = cache.stats()
    assert stats.active_backend == "redis" and stats.errors == 0 and not stats.degraded
    assert raw.exists(k) == 1 and raw.pttl(k) > 10**14


def test_get_many_and_set_many_large_batch_in_order(ns: str) -> None:
    m = build(ns, mget_chunk=300)
    keys = [key(m, i=i) for i in range(1000)]
    m.set_many([(k, {"i": i}, 60) for i, k in enumerate(keys) if i % 3])
    got = m.get_many(keys)
    assert got == [{"i": i} if i % 3 else None for i in range(1000)]
    assert m.stats().size == sum(1 for i in range(1000) if i % 3)
    m.clear()
    m.close()


def test_garbage_under_our_prefix_is_a_miss_then_overwritten(cache: CacheManager, raw: redis.Redis) -> None:
    k1, k2 = key(cache, x=1), key(cache, x=2)
    raw.set(k1, b"\x80garbage from another writer")
    raw.set(k2, b'{"v": 1, "d"')  # truncated
    got = cache.get_or_compute(k1, lambda: ({"fresh": 1}, 60))
    assert got.source == "computed" and got.value == {"fresh": 1}
    assert json.loads(raw.get(k1)) == {"v": 1, "d": {"fresh": 1}}
    assert cache.get(k2) is None and raw.exists(k2) == 0  # removed
    assert cache.stats().decode_errors == 2
    assert not cache.degraded


def test_pickle_payload_is_never_unpickled(cache: CacheManager, raw: redis.Redis) -> None:
    import pickle

    k = key(cache)
    raw.set(k, pickle.dumps({"v": 1}))
    assert cache.get(k) is None and cache.stats().decode_errors == 1


def test_clear_leaves_foreign_keys_untouched(ns: str, raw: redis.Redis) -> None:
    m = build(ns, scan_count=100)
    ours = [key(m, i=i) for i in range(450)]
    m.set_many([(k, {"i": 1}, 60) for k in ours])
    foreign = {
        f"other-app:{ns}:x": b"1",  # mentions our namespace, not as a prefix
        f"{ns}x:v2:a:b:c:d": b"2",  # a namespace that merely starts like ours
        f"{ns}": b"3",  # our namespace without the separator
        "plain-foreign-key-" + ns: b"4",
    }
    for k, v in foreign.items():
        raw.set(k, v, ex=60)
    assert m.clear() == 450
    assert raw.exists(*ours) == 0
    for k, v in foreign.items():
        assert raw.get(k) == v
        raw.unlink(k)
    m.close()


def test_prefix_option_is_prepended_and_scoped(ns: str, raw: redis.Redis) -> None:
    m = build(ns, prefix="app:")
    k = key(m)
    m.set(k, {"v": 1}, 60)
    assert raw.exists("app:" + k) == 1 and raw.exists(k) == 0
    assert m.stats().size == 1
    assert m.clear() == 1 and raw.exists("app:" + k) == 0
    m.close()


@pytest.mark.parametrize("prefix", ["app[1]*:", "app", "a::", ":", "app:x", "sp ace:", "x" * 300 + ":"])
def test_a_prefix_that_could_nest_or_glob_is_refused(ns: str, prefix: str) -> None:
    with pytest.raises(ConfigError, match=r"\[cache\] prefix"):
        build(ns, prefix=prefix)


def test_clear_never_reaches_a_deployment_nested_under_ours(ns: str, raw: redis.Redis) -> None:
    """Deployment A (prefix ``app:``, namespace ns) and B (prefix ``app:{ns}:``, namespace ``inner``):
    B's keys start with A's prefix and namespace, but ``cache clear`` on A leaves them alone."""
    a = build(ns, prefix="app:")
    b = build("inner", prefix=f"app:{ns}:")
    ka, kb = key(a), key(b)
    a.set(ka, {"v": "a"}, 60)
    b.set(kb, {"v": "b"}, 60)
    assert raw.exists(f"app:{ns}:inner:" + kb.split(":", 1)[1]) == 1
    assert a.clear() == 1
    assert a.get(ka) is None and b.get(kb) == {"v": "b"}
    assert b.clear() == 1
    a.close()
    b.close()


def test_clear_one_tenant(ns: str, raw: redis.Redis) -> None:
    m = build(ns)
    keys = {t: m.key(tenant=t, model_id="m", model_version="1", features={"i": 1}) for t in ("acme", "globex", None)}
    for k in keys.values():
        m.set(k, {"v": 1}, 60)
    assert m.clear("acme") == 1
    assert m.get(keys["acme"]) is None
    assert m.get(keys["globex"]) == {"v": 1} and m.get(keys[None]) == {"v": 1}
    assert m.clear() == 2
    m.close()


def test_cross_tenant_read_misses(cache: CacheManager) -> None:
    features = {"email": "ceo@acme.test", "score": 7}
    acme = cache.key(tenant="acme", model_id="m", model_version="1", features=features)
    cache.set(acme, {"secret": "acme's prediction"}, 60)
    for other in ("globex", None, "_", "ACME", "acme:", "acme%3A"):
        probe = cache.key(tenant=other, model_id="m", model_version="1", features=features)
        assert probe != acme
        assert cache.get(probe) is None
    assert cache.get_many([cache.key(tenant="globex", model_id="m", model_version="1", features=features)]) == [None]
    assert cache.get(acme) == {"secret": "acme's prediction"}


def test_max_value_size_skips_and_counts(ns: str, raw: redis.Redis) -> None:
    m = build(ns, max_value_bytes=1000)
    small, big = key(m, x=1), key(m, x=2)
    m.set_many([(small, {"s": "a" * 100}, 60), (big, {"s": "b" * 2000}, 60)])
    assert raw.exists(small) == 1 and raw.exists(big) == 0
    assert m.get(big) is None
    assert m.stats().backend_stats["oversize_skipped"] == 1
    m.clear()
    m.close()


def test_delete(cache: CacheManager, raw: redis.Redis) -> None:
    k = key(cache)
    cache.set(k, {"v": 1}, 60)
    assert cache.delete(k) is True and raw.exists(k) == 0
    assert cache.delete(k) is False


_CHILD = """
import json, sys
from hotcrm_ai.cache import CacheManager
from hotcrm_ai.config import CacheSettings
from hotcrm_ai_plugins.redis_cache import backend_spec
ns, mode, key = sys.argv[1], sys.argv[2], sys.argv[3]
m = CacheManager.from_specs({"redis": backend_spec()},
    CacheSettings(backend="redis", namespace=ns, options={"url": "redis://127.0.0.1:6379/0"}))
if mode == "write":
    m.set(key, {"written_by": "child", "n": 1}, 60)
print(json.dumps({"value": m.get(key), "degraded": m.degraded}))
"""


def _child(ns: str, mode: str, k: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, ns, mode, k], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_processes_share_entries(cache: CacheManager, ns: str) -> None:
    mine, theirs = key(cache, x=1), key(cache, x=2)
    cache.set(mine, {"written_by": "parent"}, 60)
    assert _child(ns, "read", mine) == {"value": {"written_by": "parent"}, "degraded": False}
    assert _child(ns, "write", theirs)["degraded"] is False
    assert cache.get(theirs) == {"written_by": "child", "n": 1}


def test_url_from_env_reference(ns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HCAI_TEST_REDIS_URL", REDIS_URL)
    m = build(ns, url={"env": "HCAI_TEST_REDIS_URL"})
    m.set(key(m), {"v": 1}, 60)
    assert m.get(key(m)) == {"v": 1} and not m.degraded
    m.clear()
    m.close()


def test_password_never_shown_and_auth_works(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, password="s3cr3t-pw").start()
    try:
        ns = unique_namespace("auth")
        good = build(ns, url=f"redis://:s3cr3t-pw@127.0.0.1:{server.port}/0")
        good.set(key(good), {"v": 1}, 60)
        assert good.get(key(good)) == {"v": 1} and not good.degraded
        text = repr(good) + repr(good._backend) + repr(good.stats()) + str(good.health())
        assert "s3cr3t-pw" not in text and "redis://***@127.0.0.1" in text
        # password given separately (as an env reference) instead of in the URL
        import os

        os.environ["HCAI_TEST_REDIS_PW"] = "s3cr3t-pw"
        try:
            sep = build(ns, url=f"redis://127.0.0.1:{server.port}/0", password={"env": "HCAI_TEST_REDIS_PW"})
            assert sep.get(key(sep)) == {"v": 1}
            sep.close()
        finally:
            del os.environ["HCAI_TEST_REDIS_PW"]
        bad = build(ns, url=f"redis://:wrong-pw-123@127.0.0.1:{server.port}/0")
        assert bad.get(key(bad)) is None
        stats = bad.stats()
        assert stats.degraded and stats.last_error and "wrong-pw-123" not in repr(stats)
        good.close()
        bad.close()
    finally:
        server.stop()


def test_unix_socket_url(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, unixsocket=True).start()
    try:
        m = build(unique_namespace("unix"), url=f"unix://{server.unixsocket}?db=0")
        m.set(key(m), {"over": "unix"}, 60)
        assert m.get(key(m)) == {"over": "unix"} and not m.degraded
        assert server.client().dbsize() == 1
        m.close()
    finally:
        server.stop()


# -- configuration --------------------------------------------------------------------------------


def test_defaults_are_short_timeouts_and_no_prefix() -> None:
    opts = RedisOptions.parse({})
    assert opts.socket_timeout_s == 0.1 and opts.socket_connect_timeout_s == 0.1
    assert opts.prefix == "" and opts.namespace == "hotcrm-ai" and opts.display_url == "redis://127.0.0.1:6379/0"
    assert opts.max_value_bytes == 1024 * 1024


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"url": "http://user:topsecret@host/"}, "scheme 'http'"),
        ({"url": "localhost:6379"}, "url"),
        ({"url": 6379}, "url"),
        ({"socket_timeout_s": -1}, "socket_timeout_s"),
        ({"socket_timeout_s": "fast"}, "socket_timeout_s"),
        ({"max_value_bytes": 0}, "max_value_bytes"),
        ({"sockettimeout": 1}, "unknown key 'sockettimeout'; did you mean `socket_timeout_s`?"),
        ({"ssl_ca_certs": "/ca.pem"}, "rediss://"),
        ({"url": {"env": "HCAI_SURELY_UNSET_VAR"}}, "HCAI_SURELY_UNSET_VAR"),
    ],
)
def test_bad_options_are_config_errors_without_secrets(options: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        redis_backend(options)
    assert needle in str(err.value)
    assert "topsecret" not in str(err.value)


def test_config_error_from_factory_fails_the_manager_fast(ns: str) -> None:
    with pytest.raises(ConfigError, match="unknown key 'socket_timout_s'; did you mean `socket_timeout_s`"):
        build(ns, socket_timout_s=0.2)


def test_tls_with_rediss_url(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, tls=True).start()
    try:
        m = build(unique_namespace("tls"), url=server.url, ssl_ca_certs=server.tls_cert)
        m.set(key(m), {"over": "tls"}, 60)
        assert m.get(key(m)) == {"over": "tls"} and not m.degraded
        assert server.client().dbsize() == 1
        m.close()
        # a server certificate the client does not trust: a fault served from memory, never an exception
        untrusted = build(unique_namespace("tls"), url=server.url)
        assert untrusted.get(key(untrusted)) is None
        assert untrusted.degraded and "SSL" in (untrusted.stats().last_error or "").upper()
        untrusted.close()
    finally:
        server.stop()


def test_rediss_url_builds_a_tls_pool() -> None:
    backend = redis_backend(
        {"url": "rediss://:pw@127.0.0.1:6390/0", "ssl_cert_reqs": "none", "ssl_check_hostname": False}
    )
    assert isinstance(backend, RedisBackend)
    assert backend._pool.connection_class.__name__ == "SSLConnection"
    assert repr(backend) == "RedisBackend(url='rediss://***@127.0.0.1:6390/0', prefix='')"
    backend.close()


def test_redact_url() -> None:
    assert redact_url("redis://user:pw@h:1/0") == "redis://***@h:1/0"
    assert redact_url("redis://:pw@h/0") == "redis://***@h/0"
    assert redact_url("unix:///tmp/r.sock?db=1&password=pw") == "unix:///tmp/r.sock?db=1&password=***"
    assert redact_url("rediss://h:6380") == "rediss://h:6380"


def test_get_or_compute_single_flight_on_redis(cache: CacheManager, raw: redis.Redis) -> None:
    import threading

    k = key(cache)
    calls: list[int] = []
    barrier = threading.Barrier(8)
    results: list[Any] = [None] * 8

    def compute() -> tuple[dict[str, int], float]:
        calls.append(1)
        time.sleep(0.2)
        return {"answer": 42}, 30

    def run(i: int) -> None:
        barrier.wait()
        results[i] = cache.get_or_compute(k, compute)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(calls) == 1
    assert sorted(r.source for r in results) == ["computed"] + ["shared"] * 7
    assert 29_000 < raw.pttl(k) <= 30_000
    assert cache.get_or_compute(k, compute).source == "cache" and len(calls) == 1


def test_url_query_cannot_override_reply_decoding_or_timeouts() -> None:
    from hotcrm_ai.errors import ConfigError
    from hotcrm_ai_plugins.redis_cache import backend_spec

    for query in ("decode_responses=false", "socket_timeout=30"):
        with pytest.raises(ConfigError, match="set by hotcrm-ai") as info:
            backend_spec().factory({"url": f"redis://:hunter2secret@127.0.0.1:6379/0?{query}", "namespace": "x"})
        assert "hunter2secret" not in str(info.value)
