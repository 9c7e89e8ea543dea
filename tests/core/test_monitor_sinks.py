"""Sinks and concurrency: the built-in memory sink through the hook, the monitor's own store when
it is not configured, isolation of a raising sink, closing, and exact totals under threads."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from support.monitor import ListSink, RaisingSink, event

from hotcrm_ai import MonitorSinkSpec, hookimpl
from hotcrm_ai.builtins.memory_sink import memory_sink
from hotcrm_ai.config import MonitorSettings, Settings
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.monitor import EventQuery, EventStore, PerformanceMonitor


class SinkPlugin:
    """A third-party plugin contributing sinks through ``register_monitor_sinks``."""

    def __init__(self, *sinks: ListSink) -> None:
        self.sinks = {s.name: s for s in sinks}

    @hookimpl
    def register_monitor_sinks(self, register: Any) -> None:
        for name, sink in self.sinks.items():
            register(MonitorSinkSpec(name=name, factory=lambda options, s=sink: s))


def cloud(sinks: tuple[str, ...], *plugin_sinks: ListSink, **monitor_kw: Any) -> Any:
    from hotcrm_ai.cloud import AICloud

    settings = Settings(monitor=MonitorSettings(sinks=sinks, **monitor_kw))
    return AICloud(settings, plugins=[SinkPlugin(*plugin_sinks)], load_entrypoints=False)


def test_builtin_memory_sink_is_the_queried_store() -> None:
    ai = cloud(("memory",), max_events_per_model=123)
    try:
        assert "memory" in ai.plugins.monitor_sinks
        store = ai.monitor.store
        assert isinstance(store, EventStore) and store.name == "memory"
        assert store in ai.monitor.sinks
        assert store.max_events_per_model == 123  # the monitor applies [monitor] max_events_per_model
        ai.monitor.record(event())
        assert ai.monitor.stats("test-model").total == 1
    finally:
        ai.close()


def test_stats_work_when_the_memory_sink_is_not_configured() -> None:
    sink = ListSink("list")
    ai = cloud(("list",), sink)
    try:
        assert ai.monitor.sinks == (sink,)
        assert isinstance(ai.monitor.store, EventStore) and ai.monitor.store is not sink
        ai.monitor.record(event())
        ai.monitor.record(event(success=False))
        assert len(sink.events) == 2
        assert ai.monitor.stats("test-model").error_rate == 50
    finally:
        ai.close()
    assert sink.closed


def test_a_sink_implementing_the_query_interface_is_used_as_the_store() -> None:
    class QueryableSink(EventStore):
        name = "db"

    sink = QueryableSink()
    assert isinstance(sink, EventQuery)
    m = PerformanceMonitor([ListSink(), sink], MonitorSettings(max_events_per_model=7))
    assert m.store is sink and sink.max_events_per_model == 7
    m.record(event())
    assert sink.events("test-model")[0].model_id == "test-model"


def test_memory_sink_takes_no_options() -> None:
    with pytest.raises(ConfigError, match=r"\[monitor.sink_options.memory\] unknown key 'size'"):
        memory_sink({"size": 3})
    assert isinstance(memory_sink({}), EventStore)


def test_a_raising_sink_is_counted_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    good, bad = ListSink("good"), RaisingSink("bad")
    m = PerformanceMonitor([EventStore(), bad, good], MonitorSettings())
    with caplog.at_level(logging.DEBUG, logger="hotcrm_ai.monitor"):
        for _ in range(5):
            m.record(event())  # never raises
    assert m.sink_errors == {"bad": 5}
    assert bad.attempts == 5 and len(good.events) == 5
    assert m.stats("test-model").total == 5  # type: ignore[union-attr]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "sink 'bad' failed (ConnectionError: sink backend unreachable)" in warnings[0].message
    bad.broken = False
    m.record(event())
    assert m.sink_errors == {"bad": 5} and len(bad.events) == 1


def test_close_closes_every_sink_in_isolation() -> None:
    store, first, second = EventStore(), RaisingSink("first", broken=False, close_fails=True), ListSink("second")
    m = PerformanceMonitor([store, first, second], MonitorSettings())
    m.record(event())
    m.close()
    m.close()  # idempotent
    assert second.closed
    assert m.sink_errors == {"first": 1}
    m.record(event())  # after close: still stored, no longer sent to the closed sinks
    assert m.stats("test-model").total == 2  # type: ignore[union-attr]
    assert len(second.events) == 1


def test_exact_totals_under_threads() -> None:
    sink = ListSink()
    m = PerformanceMonitor([EventStore(), sink], MonitorSettings())
    barrier = threading.Barrier(8)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(1000):
            m.record(
                event(
                    "model-a" if i % 2 else "model-b",
                    variant=f"v{t % 2}",
                    success=i % 10 != 0,
                    cached=i % 4 == 0,
                    prediction_id=f"{t}-{i}",
                    prediction="yes",
                )
            )

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a, b = m.stats("model-a"), m.stats("model-b")
    assert a is not None and b is not None
    assert a.total + b.total == 8000 and a.total == b.total == 4000
    assert a.failures == 0 and b.failures == 800  # i % 10 == 0 only for even i
    assert b.cached == 2000 and a.cached == 0
    assert m.stats("model-a", variant="v0").total == 2000  # type: ignore[union-attr]
    assert len(sink.events) == 8000
    assert m.sink_errors == {}
    # every successful event is joinable to an outcome
    m.record_outcome("3-1", "yes")
    m.record_outcome("6-999", "no")
    assert m.stats("model-a").accuracy == 50  # type: ignore[union-attr]


def test_stats_while_recording_never_see_a_torn_state() -> None:
    m = PerformanceMonitor([EventStore()], MonitorSettings(max_events_per_model=500))
    stop = threading.Event()
    seen: list[int] = []

    def writer() -> None:
        while not stop.is_set():
            m.record(event())

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(200):
            s = m.stats("test-model")
            if s is not None:
                assert s.successes + s.failures == s.total <= 500
                seen.append(s.total)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert seen
    assert m.stats("test-model").total == 500  # type: ignore[union-attr]


def test_eviction_count_is_exact_under_threads() -> None:
    store = EventStore(100)

    def work() -> None:
        for _ in range(1000):
            store.record(event())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.events("test-model")) == 100
    assert store.evicted("test-model") == 7900
    assert store.evicted("test-model") == 7900  # reading does not change it
    store.record(event())
    assert store.evicted() == 7901
