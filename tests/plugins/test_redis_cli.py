"""``hotcrm-ai cache stats|clear`` against the machine's Redis, configured through a real TOML file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from support.cache import REDIS_URL, RedisServer, unique_namespace

from hotcrm_ai.cache import CacheManager
from hotcrm_ai.cli.main import cli
from hotcrm_ai.config import CacheSettings
from hotcrm_ai_plugins.redis_cache import backend_spec


@pytest.fixture
def ns() -> Iterator[str]:
    namespace = unique_namespace("cli")
    yield namespace
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{namespace}*", count=1000):
        client.unlink(key)
    client.close()


def write_config(tmp_path: Path, namespace: str, url: str = REDIS_URL) -> Path:
    path = tmp_path / "hotcrm-ai.toml"
    path.write_text(
        f'[cache]\nbackend = "redis"\nnamespace = "{namespace}"\nurl = "{url}"\nretry_backend_after_s = 30\n'
    )
    return path


def fill(namespace: str, n: int) -> CacheManager:
    m = CacheManager.from_specs(
        {"redis": backend_spec()}, CacheSettings(backend="redis", namespace=namespace, options={"url": REDIS_URL})
    )
    m.set_many(
        [(m.key(tenant="t", model_id="m", model_version="1", features={"i": i}), {"i": i}, 60) for i in range(n)]
    )
    return m


def test_stats_and_clear_only_our_namespace(tmp_path: Path, ns: str) -> None:
    config = write_config(tmp_path, ns)
    fill(ns, 25).close()
    raw = redis.Redis.from_url(REDIS_URL)
    raw.set(f"foreign:{ns}", b"keep me", ex=60)
    runner = CliRunner()

    out = runner.invoke(cli, ["--config", str(config), "cache", "stats", "--json"])
    assert out.exit_code == 0, out.output
    stats = json.loads(out.stdout)
    assert stats["backend"] == "redis" and stats["active_backend"] == "redis" and stats["size"] == 25
    assert stats["degraded"] is False

    text = runner.invoke(cli, ["--config", str(config), "cache", "stats"])
    assert text.exit_code == 0 and "entries:     25" in text.stdout and "redis://127.0.0.1:6379/0" in text.stdout

    out = runner.invoke(cli, ["--config", str(config), "cache", "clear", "--yes", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == {"removed": 25, "backend": "redis", "complete": True, "last_error": None}
    assert raw.get(f"foreign:{ns}") == b"keep me"
    assert not list(raw.scan_iter(match=f"{ns}:*"))
    raw.unlink(f"foreign:{ns}")
    raw.close()


def test_clear_asks_first_and_reports_an_unreachable_redis(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)  # never started: nothing listens on its port
    config = write_config(tmp_path, unique_namespace("cli"), server.url)
    runner = CliRunner()
    refused = runner.invoke(cli, ["--config", str(config), "cache", "clear"], input="n\n")
    assert refused.exit_code == 1 and "Clear the redis cache?" in refused.output
    out = runner.invoke(cli, ["--config", str(config), "cache", "clear", "--yes"])
    assert out.exit_code == 1
    assert "backend unreachable" in out.output and "ConnectionError" in out.output
    stats = runner.invoke(cli, ["--config", str(config), "cache", "stats"])
    assert stats.exit_code == 0 and "DEGRADED (serving from memory)" in stats.stdout
