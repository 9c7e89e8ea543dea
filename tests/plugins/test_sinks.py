"""The jsonl and prometheus monitor sinks of hotcrm-ai-plugins: file content (through the
converter), rotation, thread safety, isolation of a failing write, Prometheus values read with
prometheus_client's own API and over HTTP, one registry per instance, and option errors."""

from __future__ import annotations

import json
import math
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from support.monitor import event
from support.providers import LogitProvider, Plugin, logit_model

import hotcrm_ai_plugins
from hotcrm_ai.config import MonitorSettings, Settings
from hotcrm_ai.converter import structure, unstructure
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.monitor import EventStore, PerformanceMonitor
from hotcrm_ai.types import PredictionEvent
from hotcrm_ai_plugins.sinks import JsonlSink, PrometheusSink, jsonl_sink, outcome_of, prometheus_sink, sink_specs


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_specs_are_registered_by_the_plugin() -> None:
    assert [s.name for s in sink_specs()] == ["jsonl", "prometheus"]


# -- jsonl ------------------------------------------------------------------------------------


def test_jsonl_writes_one_converter_line_per_event(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "events.jsonl"  # parent folders are created
    sink = jsonl_sink({"path": str(path)})
    events = [
        event(prediction_id="p1", prediction={"label": "hot", "score": 91.5}, usage={"tokens": 12}),
        event(success=False, error="délai dépassé ⏱", error_type="ProviderTimeoutError", variant="champion"),
    ]
    for e in events:
        sink.record(e)
    sink.close()
    raw = path.read_text(encoding="utf-8")
    assert raw.count("\n") == 2 and "délai dépassé ⏱" in raw  # real UTF-8, not \u escapes
    rows = lines(path)
    assert rows == [unstructure(e) for e in events]
    assert [structure(r, PredictionEvent) for r in rows] == events


def test_jsonl_appends_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    for i in range(2):
        sink = JsonlSink(path)
        sink.record(event(latency_ms=float(i)))
        sink.close()
    assert [r["latency_ms"] for r in lines(path)] == [0, 1]


def test_jsonl_is_thread_safe(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(path)

    def work(t: int) -> None:
        for i in range(250):
            sink.record(event(prediction_id=f"{t}-{i}", error="x" * (i % 50)))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sink.close()
    ids = [r["prediction_id"] for r in lines(path)]  # every line parses: no interleaving
    assert sorted(ids) == sorted(f"{t}-{i}" for t in range(4) for i in range(250))


def test_jsonl_rotates_by_size(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = jsonl_sink({"path": str(path), "max_bytes": 2000, "backups": 50})
    for i in range(60):
        sink.record(event(prediction_id=f"p{i}"))
    sink.close()
    files = sorted(tmp_path.iterdir())
    assert len(files) > 2
    assert all(f.stat().st_size <= 2000 for f in files)
    found = [r["prediction_id"] for f in files for r in lines(f)]
    assert sorted(found) == sorted(f"p{i}" for i in range(60))
    assert lines(path)[-1]["prediction_id"] == "p59"  # the newest lines are in the live file


def test_jsonl_without_backups_starts_afresh_when_full(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(path, max_bytes=1500, backups=0)
    for i in range(30):
        sink.record(event(prediction_id=f"p{i}"))
    sink.close()
    assert [f.name for f in tmp_path.iterdir()] == ["events.jsonl"]
    rows = lines(path)
    assert 0 < len(rows) < 30 and rows[-1]["prediction_id"] == "p29"
    with pytest.raises(ValueError, match="closed"):
        sink.record(event())


def test_a_failing_jsonl_write_is_counted_by_the_monitor(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(path)
    m = PerformanceMonitor([EventStore(), sink], MonitorSettings())
    m.record(event(usage={"cost": math.nan}))  # not valid JSON: the sink refuses it
    m.record(event())
    m.close()
    assert m.sink_errors == {"jsonl": 1}
    assert len(lines(path)) == 1
    assert m.stats("test-model").total == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, r"\[monitor.sink_options.jsonl\]: path: expected a value \(required"),
        ({"path": "x.jsonl", "rotate": True}, r"unknown key 'rotate' \(known: backups, max_bytes, path\)"),
        ({"path": ""}, "path: expected a non-empty string"),
        ({"path": "x.jsonl", "max_bytes": -1}, "max_bytes: expected an integer >= 0, got -1"),
        ({"path": "x.jsonl", "backups": "5"}, "backups: expected an integer, got str"),
    ],
)
def test_jsonl_option_errors(
    options: dict[str, Any], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        jsonl_sink(options)


def test_jsonl_unopenable_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="path: cannot open"):
        jsonl_sink({"path": str(tmp_path)})  # a directory


# -- prometheus -----------------------------------------------------------------------------------


def sample(sink: PrometheusSink, name: str, **labels: str) -> float | None:
    return sink.registry.get_sample_value(name, labels)


def test_prometheus_counts_per_model_variant_and_outcome() -> None:
    sink = prometheus_sink({})
    try:
        sink.record(event(latency_ms=120, confidence=80))
        sink.record(event(latency_ms=30, cached=True, confidence=70))
        sink.record(event(latency_ms=2000, success=False, confidence=0))
        sink.record(event(latency_ms=60, degraded=True, cached=True, variant="champion", confidence=40))
        sink.record(event("other", usage={"prompt_tokens": 10, "cost_usd": 0.5, "flag": True}))
        sink.record(event("other", usage={"prompt_tokens": 5}))
        total = "hotcrm_ai_predictions_total"
        assert sample(sink, total, model="test-model", variant="", outcome="success") == 1
        assert sample(sink, total, model="test-model", variant="", outcome="cached") == 1
        assert sample(sink, total, model="test-model", variant="", outcome="failure") == 1
        assert sample(sink, total, model="test-model", variant="champion", outcome="degraded") == 1
        latency = "hotcrm_ai_prediction_latency_seconds"
        assert sample(sink, f"{latency}_count", model="test-model", variant="") == 3
        assert sample(sink, f"{latency}_sum", model="test-model", variant="") == pytest.approx(2.15)
        assert sample(sink, f"{latency}_bucket", model="test-model", variant="", le="0.25") == 2
        confidence = "hotcrm_ai_prediction_confidence"
        assert sample(sink, f"{confidence}_count", model="test-model", variant="") == 2  # successes only
        assert sample(sink, f"{confidence}_sum", model="test-model", variant="") == 150
        usage = "hotcrm_ai_prediction_usage_total"
        assert sample(sink, usage, model="other", variant="", key="prompt_tokens") == 15
        assert sample(sink, usage, model="other", variant="", key="cost_usd") == 0.5
        assert sample(sink, usage, model="other", variant="", key="flag") is None
    finally:
        sink.close()


def test_outcome_label_of_each_event() -> None:
    assert outcome_of(event()) == "success"
    assert outcome_of(event(cached=True)) == "cached"
    assert outcome_of(event(cached=True, degraded=True)) == "degraded"
    assert outcome_of(event(success=False, cached=True)) == "failure"


def test_each_instance_has_its_own_registry() -> None:
    a, b = prometheus_sink({}), prometheus_sink({})  # same metric names: no collision
    c = prometheus_sink({"namespace": "crm"})
    try:
        a.record(event())
        a.record(event())
        b.record(event())
        labels = {"model": "test-model", "variant": "", "outcome": "success"}
        assert a.registry.get_sample_value("hotcrm_ai_predictions_total", labels) == 2
        assert b.registry.get_sample_value("hotcrm_ai_predictions_total", labels) == 1
        assert c.registry.get_sample_value("crm_predictions_total", labels) is None
    finally:
        for s in (a, b, c):
            s.close()


def test_metrics_server_serves_this_registry_until_closed() -> None:
    sink = prometheus_sink({"port": 0, "addr": "127.0.0.1"})
    assert sink.port
    sink.record(event("served-model", latency_ms=42))
    url = f"http://127.0.0.1:{sink.port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        body = response.read().decode()
    assert 'hotcrm_ai_predictions_total{model="served-model",outcome="success",variant=""} 1.0' in body
    sink.close()
    sink.close()  # idempotent
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": "9100"}, "port: expected an integer, got str"),
        ({"port": 70000}, "port: expected an integer >= 0 and <= 65535"),
        ({"namespace": "9bad"}, "namespace: expected a metric name prefix"),
        ({"buckets": [1, 0.5]}, "buckets: expected increasing positive numbers"),
        ({"buckets": []}, "buckets: expected increasing positive numbers"),
        ({"host": "x"}, "unknown key 'host'"),
    ],
)
def test_prometheus_option_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        prometheus_sink(options)


def test_prometheus_port_in_use_is_a_config_error() -> None:
    first = prometheus_sink({"port": 0})
    try:
        with pytest.raises(ConfigError, match=r"port: cannot listen on 127\.0\.0\.1"):
            prometheus_sink({"port": first.port})
    finally:
        first.close()


# -- through AICloud and the plugin's hook ----------------------------------------------------------


def test_sinks_through_ai_cloud(tmp_path: Path) -> None:
    from hotcrm_ai.cloud import AICloud

    path = tmp_path / "events.jsonl"
    settings = Settings(
        monitor=MonitorSettings(
            sinks=("memory", "jsonl", "prometheus"),
            sink_options={"jsonl": {"path": str(path)}, "prometheus": {}},
        )
    )
    models = Plugin(providers={"test-logit": LogitProvider}, models=[logit_model()])
    ai = AICloud(settings, plugins=[hotcrm_ai_plugins, models], load_entrypoints=False)
    try:
        for x in (1.0, 2.0, 1.0):  # the third is a cache hit
            ai.predict("logit-v1", {"x1": x, "x2": 0.0, "x3": 0.0})
        prom = next(s for s in ai.monitor.sinks if s.name == "prometheus")
        labels = {"model": "logit-v1", "variant": ""}
        assert prom.registry.get_sample_value("hotcrm_ai_predictions_total", {**labels, "outcome": "success"}) == 2
        assert prom.registry.get_sample_value("hotcrm_ai_predictions_total", {**labels, "outcome": "cached"}) == 1
    finally:
        ai.close()
    rows = lines(path)
    assert [r["cached"] for r in rows] == [False, False, True]
    assert all(r["model_id"] == "logit-v1" and r["success"] for r in rows)
    assert rows[0]["prediction"]["probability"] == pytest.approx(1 / (1 + math.exp(-0.8)))
    assert ai.monitor.stats("logit-v1").total == 3  # type: ignore[union-attr]
