"""Faults on a real PostgreSQL: connections killed mid-run, a store missing at start that appears
later, registry writes while it is down, a full writer queue."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest
from support.store import (
    PG_ADMIN,
    cloud,
    create_pg_database,
    drop_pg_database,
    features,
    pg_database,
    terminate_backends,
)

from hotcrm_ai.errors import StoreUnavailableError


def test_terminated_connections_fail_no_prediction_and_the_writer_recovers() -> None:
    with pg_database() as url:
        ai = cloud(url, batch_size=50, flush_interval_s=0.01)
        try:
            killed: list[int] = []
            results = []

            def kill_midway() -> None:
                while len(results) < 400:
                    time.sleep(0.005)
                killed.append(terminate_backends(url))

            killer = threading.Thread(target=kill_midway)
            killer.start()
            for i in range(1000):
                results.append(ai.predict("logit-v1", features(i), use_cache=False))
            killer.join()
            assert killed[0] >= 1  # the writer's connection really was terminated
            assert all(r.ok for r in results)
            stats = ai.stats("logit-v1")
            assert stats.total == 1000 and stats.dropped == 0
            assert ai.monitor.writer.written == 1000
        finally:
            ai.close()


def test_store_missing_at_start_then_back(caplog: pytest.LogCaptureFixture) -> None:
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/hcstore_late_{uuid.uuid4().hex[:12]}"
    caplog.set_level(logging.WARNING, logger="hotcrm_ai.store")
    ai = cloud(url, reconnect_s=0.2, refresh_s=0.2)
    try:
        assert [m.version for m in ai.registry.versions("logit-v1")] == ["1.0.0", "2.0.0"]  # plugin models
        for i in range(5):
            assert ai.predict("logit-v1", features(i), use_cache=False).ok
        assert ai.stats("logit-v1").total == 5  # the in-memory monitor answers meanwhile
        with pytest.raises(StoreUnavailableError, match="unreachable"):
            ai.registry.set_alias("logit-v1", "champion", "1.0.0")
        assert ai.registry.aliases("logit-v1") == {}  # not applied locally either
        time.sleep(0.5)
        said = [r for r in caplog.records if "in-memory monitor" in r.getMessage()]
        assert len(said) == 1 and "hcstore_late" in said[0].getMessage()
        create_pg_database(url)
        deadline = time.monotonic() + 20
        while not ai.monitor.link.ready and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ai.monitor.link.ready  # reconnected in the background, no restart
        ai.predict("logit-v1", features(9), use_cache=False)
        assert ai.stats("logit-v1").total == 6  # the queued events were written once it came back
        ai.registry.set_alias("logit-v1", "champion", "1.0.0")
    finally:
        ai.close()
        drop_pg_database(url)
    with pg_database() as other:  # (a second database proves nothing leaked between them)
        with cloud(other) as fresh:
            assert fresh.registry.aliases() == {}


def test_full_queue_drops_are_counted_and_shown() -> None:
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/hcstore_down_{uuid.uuid4().hex[:12]}"
    ai = cloud(url, queue_size=10, reconnect_s=0.2)
    try:
        for i in range(25):
            assert ai.predict("logit-v1", features(i), use_cache=False).ok
        assert ai.monitor.writer.dropped == 15 and ai.monitor.writer.high_water == 10
        assert ai.stats("logit-v1").dropped == 15
        assert ai.health("logit-v1").dropped == 15
        create_pg_database(url)
        deadline = time.monotonic() + 20
        while ai.monitor.writer.queued and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = ai.stats("logit-v1")
        assert (stats.total, stats.dropped) == (10, 15)  # written: the 10 queued; dropped: counted in the store
        from hotcrm_ai.cli.monitor import health_text, stats_text

        said = "events dropped by the store writer (queue full):\n  logit-v1: 15"
        assert said in stats_text({"logit-v1": stats}, None)
        assert said in health_text([ai.health("logit-v1")])
    finally:
        ai.close()
        drop_pg_database(url)
