"""Explanation counts per model, kept apart from prediction events.

An explanation is not a prediction: counting it as one would inflate a model's request totals and
skew its latency and error rate. What the monitor keeps instead is how many explanations each model
gave (rows, for a batch), how many failed, and what they cost the provider: the scoring calls made
through the guarded provider (each may include retries) and the model evaluations those calls
scored. A linear closed form costs no calls; an exact or kernel explanation costs its coalition
batches; a prediction with ``explain=True`` counts its prediction in the prediction stats and its
explanation's extra scoring here.
"""

from __future__ import annotations

import threading

import attrs


@attrs.frozen
class ExplainStats:
    """One model's explanation figures since the monitor started (or was cleared)."""

    model_id: str
    explanations: int = 0  # rows explained (a batch of n rows counts n)
    failures: int = 0
    provider_calls: int = 0  # scoring calls to the provider (through its retries and breaker)
    evaluations: int = 0  # model evaluations those calls scored
    methods: dict[str, int] = attrs.field(factory=dict)  # method -> explanations


class ExplainCounter:
    """Thread-safe counters behind ``PerformanceMonitor.record_explanation`` / ``explain_stats``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, list[int]] = {}  # model -> [explanations, failures, calls, evaluations]
        self._methods: dict[str, dict[str, int]] = {}

    def add(
        self, model_id: str, method: str | None, *, rows: int, failed: bool, provider_calls: int, evaluations: int
    ) -> None:
        with self._lock:
            counts = self._counts.get(model_id)
            if counts is None:
                counts = self._counts[model_id] = [0, 0, 0, 0]
                self._methods[model_id] = {}
            if failed:
                counts[1] += rows
            else:
                counts[0] += rows
                if method:
                    by_method = self._methods[model_id]
                    by_method[method] = by_method.get(method, 0) + rows
            counts[2] += provider_calls
            counts[3] += evaluations

    def stats(self, model_id: str) -> ExplainStats | None:
        with self._lock:
            counts = self._counts.get(model_id)
            if counts is None:
                return None
            explanations, failures, calls, evaluations = counts
            return ExplainStats(model_id, explanations, failures, calls, evaluations, dict(self._methods[model_id]))

    def model_ids(self) -> list[str]:
        with self._lock:
            return list(self._counts)

    def clear(self, model_id: str | None = None) -> None:
        with self._lock:
            if model_id is None:
                self._counts.clear()
                self._methods.clear()
            else:
                self._counts.pop(model_id, None)
                self._methods.pop(model_id, None)
