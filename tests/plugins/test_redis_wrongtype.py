"""A key of ours holding a list or a hash (someone wrote it there) against the machine's Redis
(127.0.0.1:6379, each test in its own namespace): a bad entry, not a dead backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from support.cache import REDIS_URL, unique_namespace

from hotcrm_ai.cache import CacheManager
from hotcrm_ai.config import CacheSettings
from hotcrm_ai_plugins.redis_cache import NOT_A_VALUE, backend_spec


@pytest.fixture
def raw() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def cache(raw: redis.Redis) -> Iterator[CacheManager]:
    namespace = unique_namespace("wrongtype")
    settings = CacheSettings(backend="redis", namespace=namespace, options={"url": REDIS_URL, "prefix": "hc-wt:"})
    manager = CacheManager.from_specs({"redis": backend_spec()}, settings)
    yield manager
    manager.close()
    for key in raw.scan_iter(match=f"hc-wt:{namespace}*", count=1000):
        raw.unlink(key)
    assert not list(raw.scan_iter(match=f"hc-wt:{namespace}*"))


def key(m: CacheManager, **features: Any) -> str:
    return m.key(tenant="acme", model_id="lead-scoring-v1", model_version="1.0.0", features=features)


def test_a_list_under_our_key_is_a_corrupt_entry_and_the_backend_stays(cache: CacheManager, raw: redis.Redis) -> None:
    k = key(cache, x=1)
    raw.rpush("hc-wt:" + k, b"a", b"b")
    assert cache.get(k) is None  # a miss, no exception
    stats = cache.stats()
    assert stats.decode_errors == 1 and stats.misses == 1
    assert stats.errors == 0 and stats.fallbacks == 0
    assert not cache.degraded and cache.active_backend == "redis"
    assert raw.exists("hc-wt:" + k) == 0  # deleted, as an undecodable value is
    got = cache.get_or_compute(k, lambda: ({"fresh": 1}, 60))
    assert got.source == "computed" and cache.get(k) == {"fresh": 1}
    assert json.loads(raw.get("hc-wt:" + k)) == {"v": 1, "d": {"fresh": 1}}


def test_a_write_over_a_hash_replaces_it(cache: CacheManager, raw: redis.Redis) -> None:
    k = key(cache, x=2)
    raw.hset("hc-wt:" + k, mapping={"field": "value"})
    cache.set(k, {"score": 3}, 60)
    assert raw.type("hc-wt:" + k) == b"string" and 0 < raw.pttl("hc-wt:" + k) <= 60_000
    assert cache.get(k) == {"score": 3}
    assert not cache.degraded and cache.stats().errors == 0


def test_a_batch_sees_a_miss_and_its_write_replaces_the_entry(cache: CacheManager, raw: redis.Redis) -> None:
    keys = [key(cache, x=i) for i in range(3)]
    cache.set(keys[0], {"i": 0}, 60)
    raw.sadd("hc-wt:" + keys[1], b"member")
    assert cache.get_many(keys) == [{"i": 0}, None, None]
    assert not cache.degraded and cache.stats().errors == 0
    cache.set_many([(k, {"i": i}, 60) for i, k in enumerate(keys)])
    assert cache.get_many(keys) == [{"i": 0}, {"i": 1}, {"i": 2}]


def test_the_backend_reads_it_as_not_a_value_and_counts_it(cache: CacheManager, raw: redis.Redis) -> None:
    backend = cache._backend  # the real RedisBackend the manager built
    assert backend is not None
    k = key(cache, x=3)
    raw.lpush("hc-wt:" + k, b"x")
    assert backend.get(k) == NOT_A_VALUE
    assert backend.stats()["wrong_type"] == 1
    raw.set("hc-wt:" + k, b"plain")
    assert backend.get(k) == b"plain"  # the same connection still serves
