"""Monitor sinks beyond the built-in memory store: JSON lines on disk and Prometheus metrics.

Registration imports nothing heavy: ``prometheus_client`` is imported by the prometheus factory,
the first time such a sink is built. Both sinks are thread-safe (the monitor calls ``record`` from
every prediction thread) and never see anything but the ``PredictionEvent`` (no features, no
credentials).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from hotcrm_ai.descriptors import MonitorSinkSpec
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.options import OptionError, at_least, between, non_empty, parse_options

if TYPE_CHECKING:
    from hotcrm_ai.types import PredictionEvent


def sink_specs() -> list[MonitorSinkSpec]:
    return [
        MonitorSinkSpec(
            name="jsonl",
            factory=jsonl_sink,
            options=JsonlOptions,
            description="Appends one JSON line per prediction event to a file (optional size-based rotation).",
        ),
        MonitorSinkSpec(
            name="prometheus",
            factory=prometheus_sink,
            options=PrometheusOptions,
            description="Prometheus counters and histograms per model/variant/outcome (optional /metrics server).",
        ),
    ]


_METRIC_PREFIX = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


# -- options ----------------------------------------------------------------------------------
def _positive_buckets(inst: Any, attribute: Any, value: tuple[float, ...]) -> None:
    if not value or any(not b > 0 for b in value) or list(value) != sorted(set(value)):
        raise OptionError(attribute.name, "increasing positive numbers of seconds", list(value))


def _metric_prefix(inst: Any, attribute: Any, value: str) -> None:
    if not _METRIC_PREFIX.fullmatch(value):
        raise OptionError(attribute.name, f"a metric name prefix ({_METRIC_PREFIX.pattern})", value)


@attrs.frozen
class JsonlOptions:
    """``[monitor.sink_options.jsonl]``: ``path`` (required), ``max_bytes`` (0 = never rotate),
    ``backups`` (rotated files kept)."""

    path: str = attrs.field(validator=non_empty)
    max_bytes: int = attrs.field(default=0, validator=at_least(0))
    backups: int = attrs.field(default=5, validator=at_least(0))


@attrs.frozen
class PrometheusOptions:
    """``[monitor.sink_options.prometheus]``: metric ``namespace``, ``port`` of a ``/metrics`` server
    (none: no server; 0: a free port), its ``addr``, and the latency ``buckets`` in seconds."""

    namespace: str = attrs.field(default="hotcrm_ai", validator=_metric_prefix)
    port: int | None = attrs.field(default=None, validator=between(0, 65535))
    addr: str = attrs.field(default="127.0.0.1", validator=non_empty)
    buckets: tuple[float, ...] = attrs.field(default=LATENCY_BUCKETS_S, validator=_positive_buckets)


# -- JSON lines -------------------------------------------------------------------------------


class JsonlSink:
    """One compact JSON object per line: ``converter.unstructure(event)``, UTF-8, flushed per line.

    Rotation by size: with ``max_bytes`` > 0, a line that would take the file past ``max_bytes``
    first renames it to ``<path>.1`` (older ones shift to ``.2`` ... ``.<backups>``, the oldest is
    deleted), the naming of the standard library's ``RotatingFileHandler``; ``backups`` = 0 keeps no
    old file (a full file is discarded and started afresh). With ``max_bytes`` = 0 (the default) the
    file grows without rotation. We write the file ourselves instead of through
    ``logging``: a ``LogRecord`` per event plus the handler's two ``stat`` calls per line cost about
    60 us per prediction, several times the rest of the sink. Thread-safe within one process; several
    *processes* must not rotate one path (no cross-process lock).
    """

    name = "jsonl"

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int = 0, backups: int = 5) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._file: Any = self._open()
        from hotcrm_ai.converter import converter

        self._unstructure = converter.unstructure
        self._encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str).encode

    def _open(self) -> Any:
        handle = open(self.path, "ab")  # noqa: SIM115 - kept open for the sink's lifetime
        self._size = handle.tell()
        return handle

    def record(self, event: PredictionEvent) -> None:
        data = (self._encode(self._unstructure(event)) + "\n").encode("utf-8")
        with self._lock:
            if self._file is None:
                raise ValueError(f"jsonl sink {self.path} is closed")
            if self.max_bytes and self._size and self._size + len(data) > self.max_bytes:
                self._rotate()
            self._file.write(data)
            self._file.flush()
            self._size += len(data)

    def _rotate(self) -> None:
        self._file.close()
        if self.backups > 0:
            for i in range(self.backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{i}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{i + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink(missing_ok=True)
        self._file = self._open()

    def close(self) -> None:
        with self._lock:
            handle, self._file = self._file, None
        if handle is not None:
            handle.close()

    def __repr__(self) -> str:
        return f"JsonlSink(path={str(self.path)!r})"


def _paths_as_text(options: Mapping[str, Any]) -> Mapping[str, Any]:
    """A ``PathLike`` path (from code, not TOML) as its text, so the declared ``str`` field takes it."""
    path = options.get("path")
    return {**options, "path": os.fspath(path)} if isinstance(path, os.PathLike) else options


def jsonl_sink(options: Mapping[str, Any]) -> JsonlSink:
    """The factory: options declared by ``JsonlOptions``."""
    opts = parse_options(JsonlOptions, _paths_as_text(options), section="monitor.sink_options.jsonl")
    path = opts.path
    try:
        return JsonlSink(path, max_bytes=opts.max_bytes, backups=opts.backups)
    except OSError as exc:
        raise ConfigError(f"[monitor.sink_options.jsonl] path: cannot open {path}: {exc.strerror or exc}") from None


# -- Prometheus -------------------------------------------------------------------------------

CONFIDENCE_BUCKETS = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0)


def outcome_of(event: PredictionEvent) -> str:
    """One label value per event: failure, degraded (fallback or stale cache), cached, or success."""
    if not event.success:
        return "failure"
    if event.degraded:
        return "degraded"
    if event.cached:
        return "cached"
    return "success"


class PrometheusSink:
    """prometheus-client metrics in this sink's *own* ``CollectorRegistry`` (``.registry``), so two
    ``AICloud`` objects in one process never collide on metric names.

    * ``<ns>_predictions_total{model, variant, outcome}``: counter; outcome is success / cached /
      degraded / failure (see ``outcome_of``); variant is "" outside A/B tests;
    * ``<ns>_prediction_latency_seconds{model, variant}``: histogram of every event's latency;
    * ``<ns>_prediction_confidence{model, variant}``: histogram (0-100) of successful events;
    * ``<ns>_prediction_usage_total{model, variant, key}``: counter of each numeric usage key
      (tokens, cost...).

    With ``port`` set, a ``/metrics`` HTTP server for this registry runs on ``addr:port`` (port 0
    picks a free port: see ``.port``) until ``close()``.
    """

    name = "prometheus"

    def __init__(
        self,
        *,
        namespace: str = "hotcrm_ai",
        port: int | None = None,
        addr: str = "127.0.0.1",
        buckets: tuple[float, ...] = LATENCY_BUCKETS_S,
    ) -> None:
        import prometheus_client as prom

        self.registry = prom.CollectorRegistry(auto_describe=True)
        labels = ("model", "variant")
        self._predictions = prom.Counter(
            "predictions", "Predictions by outcome", (*labels, "outcome"), namespace=namespace, registry=self.registry
        )
        self._latency = prom.Histogram(
            "prediction_latency_seconds",
            "Prediction latency",
            labels,
            namespace=namespace,
            buckets=buckets,
            registry=self.registry,
        )
        self._confidence = prom.Histogram(
            "prediction_confidence",
            "Confidence (0-100) of successful predictions",
            labels,
            namespace=namespace,
            buckets=CONFIDENCE_BUCKETS,
            registry=self.registry,
        )
        self._usage = prom.Counter(
            "prediction_usage",
            "Provider usage (tokens, cost, ...)",
            (*labels, "key"),
            namespace=namespace,
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, str], tuple[Any, Any, Any]] = {}
        self._server: Any = None
        self._thread: Any = None
        self.port: int | None = None
        if port is not None:
            self._server, self._thread = prom.start_http_server(port, addr=addr, registry=self.registry)
            self.port = int(self._server.server_port)

    def record(self, event: PredictionEvent) -> None:
        model, variant, outcome = event.model_id, event.variant or "", outcome_of(event)
        children = self._children.get((model, variant, outcome))
        if children is None:  # labels() takes a lock and builds a key: do it once per series
            children = self._children.setdefault(
                (model, variant, outcome),
                (
                    self._predictions.labels(model, variant, outcome),
                    self._latency.labels(model, variant),
                    self._confidence.labels(model, variant),
                ),
            )
        predictions, latency, confidence = children
        predictions.inc()
        latency.observe(event.latency_ms / 1000.0)
        if event.success:
            confidence.observe(event.confidence)
        for key, value in event.usage.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                self._usage.labels(model, variant, str(key)).inc(value)

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)

    def __repr__(self) -> str:
        return f"PrometheusSink(port={self.port})"


def prometheus_sink(options: Mapping[str, Any]) -> PrometheusSink:
    """The factory: options declared by ``PrometheusOptions``."""
    where = "[monitor.sink_options.prometheus]"
    opts = parse_options(PrometheusOptions, options, section="monitor.sink_options.prometheus")
    port, values = opts.port, {"addr": opts.addr}
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"{where}: the prometheus sink needs prometheus-client (pip install 'hotcrm-ai-plugins[prometheus]')"
        ) from None
    try:
        return PrometheusSink(namespace=opts.namespace, port=port, addr=opts.addr, buckets=opts.buckets)
    except OSError as exc:
        raise ConfigError(f"{where} port: cannot listen on {values['addr']}:{port}: {exc.strerror or exc}") from None
