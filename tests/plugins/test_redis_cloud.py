"""Cached predictions through ``AICloud`` on a real Redis: shared across processes, tenant-safe,
stampede-protected, one round trip per batch, and still serving while Redis is killed and restarted.

The provider is a tiny real logistic model (tests/support/providers.py) registered through a plugin
object, and the redis backend is registered the way hotcrm-ai-plugins does it, via its hook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from support.cache import REDIS_URL, RedisServer, unique_namespace
from support.providers import LogitProvider, Plugin, logit_model

from hotcrm_ai import AICloud, hookimpl
from hotcrm_ai.config import CacheSettings, PredictionSettings, Settings
from hotcrm_ai_plugins.redis_cache import backend_spec

TESTS_DIR = str(Path(__file__).resolve().parents[1])
FEATURES = {"x1": 0.5, "x2": -1.0, "x3": 2.0}


class RedisPlugin:
    """What hotcrm-ai-plugins' entry point does for the cache, as a plugin object."""

    __name__ = "test-redis-cache"

    @hookimpl
    def register_cache_backends(self, register: Callable[[Any], None]) -> None:
        register(backend_spec())


def make_cloud(url: str, namespace: str, *, delay_s: float = 0.0, retry_after_s: float = 0.3) -> tuple[AICloud, Plugin]:
    from hotcrm_ai.types import ProviderConfig

    models = Plugin(providers={"test-logit": LogitProvider}, models=[logit_model()])
    settings = Settings(
        cache=CacheSettings(
            backend="redis",
            namespace=namespace,
            retry_backend_after_s=retry_after_s,
            options={"url": url},
        ),
        prediction=PredictionSettings(retries=0),
        providers={"test-logit": ProviderConfig(provider="test-logit", config={"delay_s": delay_s})},
    )
    return AICloud(settings, plugins=[models, RedisPlugin()], load_entrypoints=False), models


def provider_calls(plugin: Plugin) -> tuple[int, int]:
    """(single calls, batch calls) over every provider instance the plugin built."""
    return (
        sum(getattr(p, "calls", 0) for p in plugin.instances),
        sum(getattr(p, "batch_calls", 0) for p in plugin.instances),
    )


@pytest.fixture
def ns() -> Iterator[str]:
    namespace = unique_namespace("cloud")
    yield namespace
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{namespace}*", count=1000):
        client.unlink(key)
    client.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    srv = RedisServer(tmp_path).start()
    yield srv
    srv.stop()


_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from test_redis_cloud import make_cloud, provider_calls, FEATURES
ai, plugin = make_cloud(sys.argv[2], sys.argv[3])
tenant = sys.argv[4]
r = ai.predict("logit-v1", FEATURES, context={"tenant": tenant})
print(json.dumps({"cached": r.cached, "prediction": r.prediction, "calls": provider_calls(plugin)[0],
                  "degraded": ai.cache.degraded}))
ai.close()
"""


def start_child(url: str, namespace: str, tenant: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([TESTS_DIR, os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(Path(__file__).parent), url, namespace, tenant],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def child_result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


def test_two_processes_share_cached_predictions(ns: str) -> None:
    ai, plugin = make_cloud(REDIS_URL, ns)
    first = ai.predict("logit-v1", FEATURES, context={"tenant": "acme"})
    assert first.cached is False and provider_calls(plugin)[0] == 1
    # two other processes at once: one reads what this process cached, one computes for another tenant
    reader, writer = start_child(REDIS_URL, ns, "acme"), start_child(REDIS_URL, ns, "globex")
    other = child_result(reader)
    assert other == {"cached": True, "prediction": first.prediction, "calls": 0, "degraded": False}
    child_first = child_result(writer)
    assert child_first["cached"] is False and child_first["calls"] == 1
    mine = ai.predict("logit-v1", FEATURES, context={"tenant": "globex"})
    assert mine.cached is True and mine.prediction == child_first["prediction"]
    assert provider_calls(plugin)[0] == 1
    ai.close()


def test_tenants_never_share_predictions(ns: str) -> None:
    ai, plugin = make_cloud(REDIS_URL, ns)
    ai.predict("logit-v1", FEATURES, context={"tenant": "acme"})
    for tenant in ("globex", "acme:", "ACME", None):
        ctx = {"tenant": tenant} if tenant is not None else {}
        assert ai.predict("logit-v1", FEATURES, context=ctx).cached is False
    assert provider_calls(plugin)[0] == 5
    assert ai.predict("logit-v1", FEATURES, context={"tenant": "acme"}).cached is True
    ai.close()


def test_stored_key_carries_tenant_and_version_and_a_ttl(ns: str) -> None:
    ai, _ = make_cloud(REDIS_URL, ns)
    ai.predict("logit-v1", {"x1": 1.0, "x2": 2.0, "x3": 3.0}, context={"tenant": "acme"})
    model = ai.registry.get("logit-v1")
    key = ai.cache.key(
        tenant="acme", model_id=model.id, model_version=model.version, features={"x1": 1.0, "x2": 2.0, "x3": 3.0}
    )
    client = redis.Redis.from_url(REDIS_URL)
    assert key.startswith(f"{ns}:v2:acme:logit-v1:")
    # TTL = cache_ttl_s (+ stale_if_error_s, 0 by default, when stale answers may serve a failing provider)
    expected_ms = (model.cache_ttl_s + ai.settings.prediction.stale_if_error_s) * 1000
    assert expected_ms - 5_000 < client.pttl(key) <= expected_ms
    assert b"x1" not in key.encode() and b"acme" in key.encode()
    client.close()
    ai.close()


def test_garbage_under_the_key_is_recomputed_and_overwritten(ns: str) -> None:
    ai, plugin = make_cloud(REDIS_URL, ns)
    model = ai.registry.get("logit-v1")
    key = ai.cache.key(tenant=None, model_id=model.id, model_version=model.version, features=FEATURES)
    client = redis.Redis.from_url(REDIS_URL)
    client.set(key, b"\x00\x01 not ours", ex=60)
    result = ai.predict("logit-v1", FEATURES)
    assert result.cached is False and result.degraded is False and provider_calls(plugin)[0] == 1
    assert json.loads(client.get(key))["v"] == 1
    assert ai.predict("logit-v1", FEATURES).cached is True
    assert ai.cache.stats().decode_errors == 1
    client.close()
    ai.close()


def test_concurrent_identical_misses_call_the_provider_once(ns: str) -> None:
    ai, plugin = make_cloud(REDIS_URL, ns, delay_s=0.3)
    barrier = threading.Barrier(8)
    results: list[Any] = [None] * 8

    def run(i: int) -> None:
        barrier.wait()
        results[i] = ai.predict("logit-v1", FEATURES, context={"tenant": "acme"})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert provider_calls(plugin)[0] == 1
    assert len({json.dumps(r.prediction) for r in results}) == 1
    assert all(r.ok and not r.degraded for r in results)
    assert ai.predict("logit-v1", FEATURES, context={"tenant": "acme"}).cached is True
    ai.close()


def test_batch_reads_in_one_mget_and_writes_in_one_pipeline(server: RedisServer) -> None:
    ai, plugin = make_cloud(server.url, unique_namespace("batch"))
    rows = [{"x1": float(i), "x2": 1.0, "x3": -1.0} for i in range(300)]
    ai.predict("logit-v1", rows[0])  # warm: connection made, one row cached
    info = server.client()

    def snapshot() -> dict[str, int]:
        stats = info.info("commandstats")
        reads = int(info.info("stats")["total_reads_processed"])
        calls = {c: int(stats.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in ("mget", "get", "set")}
        return {**calls, "reads": reads}

    before = snapshot()
    results = ai.batch_predict("logit-v1", rows)
    after = snapshot()
    assert [r.cached for r in results] == [True] + [False] * 299
    assert after["mget"] - before["mget"] == 1 and after["get"] == before["get"]
    assert after["set"] - before["set"] == 299
    # 299 SETs in one pipeline arrive in a handful of socket reads, not 299 (plus 2 for our INFO calls)
    assert after["reads"] - before["reads"] < 40
    assert provider_calls(plugin)[1] == 1

    before = snapshot()
    again = ai.batch_predict("logit-v1", rows)
    after = snapshot()
    assert all(r.cached for r in again)
    assert [r.prediction for r in again] == [r.prediction for r in results]
    assert after["mget"] - before["mget"] == 1 and after["set"] == before["set"]
    assert provider_calls(plugin)[1] == 1
    ai.close()


def test_a_cached_batch_serves_only_its_own_fresh_entries(ns: str) -> None:
    """The batch path reads a whole batch at once: an entry that is garbage, not a cache record, another
    model's, or older than the model's TTL is recomputed (never served, never an error), and another
    tenant's entries are never read. Every row gets one result and one event."""
    ai, plugin = make_cloud(REDIS_URL, ns)
    rows = [{"x1": float(i), "x2": 1.0, "x3": -1.0} for i in range(8)]
    first = ai.batch_predict("logit-v1", rows, context={"tenant": "acme"})
    model = ai.registry.get("logit-v1")
    keys = [ai.cache.key(tenant="acme", model_id=model.id, model_version=model.version, features=r) for r in rows]
    client = redis.Redis.from_url(REDIS_URL)
    record = json.loads(client.get(keys[4]))
    client.set(keys[1], b"\x00 not ours", ex=60)
    client.set(keys[2], json.dumps({"v": 1, "d": {"prediction": 1}}), ex=60)
    client.set(keys[3], json.dumps({**record, "d": {**record["d"], "model_id": "other-v1"}}), ex=60)
    client.set(keys[4], json.dumps({**record, "d": {**record["d"], "stored_at": time.time() - 10**6}}), ex=60)
    events_before = len(ai.monitor.store.events("logit-v1"))
    again = ai.batch_predict("logit-v1", rows, context={"tenant": "acme"})
    assert [r.cached for r in again] == [True, False, False, False, False, True, True, True]
    assert all(r.ok and not r.degraded for r in again)
    assert [r.prediction for r in again] == [r.prediction for r in first]
    assert len(ai.monitor.store.events("logit-v1")) - events_before == len(rows)
    assert ai.cache.stats().decode_errors == 2
    assert all(r.cached for r in ai.batch_predict("logit-v1", rows, context={"tenant": "acme"}))
    other = ai.batch_predict("logit-v1", rows, context={"tenant": "globex"})
    assert not any(r.cached for r in other) and provider_calls(plugin)[1] == 3
    client.close()
    ai.close()


def test_predictions_survive_redis_killed_and_restarted(server: RedisServer) -> None:
    ai, _ = make_cloud(server.url, unique_namespace("kill"))
    assert ai.predict("logit-v1", FEATURES).cached is False
    assert ai.predict("logit-v1", FEATURES).cached is True
    server.kill()
    rows = [{"x1": float(i), "x2": 0.0, "x3": 0.0} for i in range(20)]
    for row in rows:  # every prediction succeeds, none degraded: the cache fault is not a prediction fault
        r = ai.predict("logit-v1", row)
        assert r.ok and not r.degraded
    assert all(r.ok for r in ai.batch_predict("logit-v1", rows))
    health = ai.cache.health()
    assert health["status"] == "degraded" and health["active_backend"] == "memory"
    assert ai.predict("logit-v1", rows[0]).cached is True  # served by the memory fallback meanwhile
    server.start()
    deadline = time.monotonic() + 5
    while ai.cache.degraded:
        assert time.monotonic() < deadline, ai.cache.health()
        ai.predict("logit-v1", FEATURES)
        time.sleep(0.05)
    ai.predict("logit-v1", {"x1": 9.0, "x2": 9.0, "x3": 9.0})
    assert server.client().dbsize() >= 1  # writes land in Redis again
    assert ai.cache.stats().active_backend == "redis" and ai.cache.stats().recoveries == 1
    ai.close()
