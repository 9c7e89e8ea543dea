"""Prometheus metrics of the server, on a registry of its own (two servers in one process do not mix).

Names follow Prometheus conventions: seconds, ``_total`` counters, and only bounded labels: the route
template (never the raw path), the status code, and a model id only once it resolved to a registered
model."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hotcrm_ai_server_requests_total",
            "Requests handled, by protocol, route and status code.",
            ["protocol", "route", "code"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "hotcrm_ai_server_request_duration_seconds",
            "Time to answer a request, by protocol and route.",
            ["protocol", "route"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.in_flight = Gauge(
            "hotcrm_ai_server_requests_in_flight",
            "Requests being handled now.",
            registry=self.registry,
        )
        self.rows = Counter(
            "hotcrm_ai_server_inference_rows_total",
            "Rows inferred, by model.",
            ["model"],
            registry=self.registry,
        )
        self.ready = Gauge("hotcrm_ai_server_ready", "1 when the server is ready to serve.", registry=self.registry)

    def observe(self, protocol: str, route: str, code: int | str, seconds: float) -> None:
        self.requests.labels(protocol, route, str(code)).inc()
        self.duration.labels(protocol, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
