"""Turning what was served into a ``PredictionResult`` and the monitor's events, one caller at a time.

Every call records its own events, whoever did the work: a caller that waited on a concurrent
identical request (the cache's single flight) records the same outcome with its own latency, so the
monitor's totals equal the calls made. A degraded answer records the failing model's failure first.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any

from hotcrm_ai.prediction.outcome import Failure, Served
from hotcrm_ai.types import ErrorInfo, ModelConfig, PredictionEvent, PredictionResult, served_result

if TYPE_CHECKING:
    from hotcrm_ai.monitor.monitor import PerformanceMonitor

log = logging.getLogger("hotcrm_ai.prediction")


class Call:
    """Who asked for what, and when: every event of the call is recorded against these names."""

    __slots__ = ("ctx", "requested_id", "start", "variant")

    def __init__(self, requested_id: str, variant: str | None, ctx: dict[str, Any], start: float) -> None:
        self.requested_id = requested_id
        self.variant = variant
        self.ctx = ctx
        self.start = start

    def latency_ms(self) -> float:
        return (time.perf_counter() - self.start) * 1000


def _usage(metadata: Mapping[str, Any]) -> dict[str, Any]:
    usage = metadata.get("usage")
    if usage is None or not isinstance(usage, Mapping):
        return {}
    return {k: v for k, v in usage.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


class Recorder:
    """Builds results and writes their events to the monitor (which isolates its sinks)."""

    def __init__(self, monitor: PerformanceMonitor) -> None:
        self.monitor = monitor
        self._ids: list[str] = []

    def _new_id(self) -> str:
        """A random 128-bit prediction id. Drawn from the OS 256 at a time (one system call instead of
        one per prediction); ``list.pop`` and ``extend`` are atomic, so threads never share an id."""
        try:
            return self._ids.pop()
        except IndexError:
            ids = os.urandom(16 * 256).hex()
            self._ids.extend(ids[i : i + 32] for i in range(32, len(ids), 32))
            return ids[:32]

    def finish(self, call: Call, served: Served) -> PredictionResult:
        """The caller's result for ``served``, its failures and its success recorded. The event is
        built from the same values as the result (every call goes through here), as a row
        (``PerformanceMonitor.record_checked_row``: an event object only when a sink needs one)."""
        if served.failures:
            for failure in served.failures:
                self.failure(call, failure)
        output = served.output
        model = served.model
        metadata = output.metadata
        latency = (time.perf_counter() - call.start) * 1000
        pid = self._new_id()
        reason = served.degraded_reason
        degraded = reason is not None
        result = served_result(  # PredictionResult(...), built without a setattr call per field
            output.prediction,
            output.confidence,
            model.id,
            model.version,
            call.requested_id,
            call.variant,
            served.cached,
            degraded,
            reason,
            latency,
            pid,
            {"provider": model.provider, **metadata} if metadata else {"provider": model.provider},
            served.explanation,
        )
        if served.success_event:
            try:  # built from checked numbers: the monitor's own checks would only repeat them
                self.monitor.record_checked_row(
                    (
                        model.id,
                        call.requested_id,
                        model.version,
                        time.time(),
                        latency,
                        True,
                        output.confidence,
                        served.cached,
                        degraded,
                        call.variant,
                        model.provider,
                        call.ctx.get("tenant"),
                        pid,
                        None,
                        None,
                        reason,
                        _usage(metadata) if metadata else None,  # the event's converter makes None {}
                        output.prediction,
                    )
                )
            except Exception:  # the monitor isolates sinks; this guards against the monitor itself
                log.exception("monitor failed to record an event")
        return result

    def finish_cached(
        self, call: Call, model: ModelConfig, records: Sequence[tuple[Any, ...]]
    ) -> list[PredictionResult]:
        """The results of a batch's fresh cache hits (all answered by ``model``; each hit its record's
        fields, ``RecordFields``), built in one pass and recorded as one success event each through
        ``PerformanceMonitor.record_checked_rows``.

        Results (``PredictionResult._many``) and event rows are built by ``map`` and ``zip`` over
        columns (the per-row fields) and constants (the call's), so no Python frame runs per row;
        both follow the classes' field order (tests/core/test_hot_path.py checks that order). The
        events go to the monitor as rows: it builds event objects only when a sink or a subclass
        needs them."""
        n = len(records)
        if not n:
            return []
        latency = call.latency_ms()
        ids = os.urandom(16 * n).hex()
        pids = list(map(ids.__getitem__, map(slice, range(0, 32 * n, 32), range(32, 32 * n + 32, 32))))
        provider = model.provider
        model_id, version, requested, variant = model.id, model.version, call.requested_id, call.variant
        predictions, confidences, _, _, _, metadatas, explanations = zip(*records, strict=True)
        plain: dict[str, Any] = {"provider": provider}
        plain_usage: dict[str, Any] = {}  # shared by the rows of events without usage (never written to)
        if any(metadatas):
            shown = [{**plain, **m} if m else plain.copy() for m in metadatas]
            usages: Iterable[dict[str, Any]] = [_usage(m) if m else plain_usage for m in metadatas]
        else:  # the usual cached answer: no provider metadata
            shown = list(map(dict.copy, repeat(plain, n)))
            usages = repeat(plain_usage, n)
        # each result's own metadata dict, as PredictionResult's converter would have copied it
        results = PredictionResult._many(
            n,
            (
                predictions,
                confidences,
                repeat(model_id),
                repeat(version),
                repeat(requested),
                repeat(variant),
                repeat(True),
                repeat(False),
                repeat(None),
                repeat(latency),
                pids,
                shown,
                explanations,
                repeat(None),
                repeat(None),
            ),
        )
        rows = list(
            zip(
                repeat(model_id, n),
                repeat(requested),
                repeat(version),
                repeat(time.time()),
                repeat(latency),
                repeat(True),
                confidences,
                repeat(True),
                repeat(False),
                repeat(variant),
                repeat(provider),
                repeat(call.ctx.get("tenant")),
                pids,
                repeat(None),
                repeat(None),
                repeat(None),
                usages,
                predictions,
            )
        )
        try:
            self.monitor.record_checked_rows(rows)
        except Exception:  # the monitor isolates sinks; this guards against the monitor itself
            log.exception("monitor failed to record events")
        return results

    def failure(self, call: Call, failure: Failure) -> None:
        """A failed attempt on the way to a (degraded) answer, or to none."""
        self.error(
            call,
            failure.model,
            failure.error,
            variant=call.variant if failure.as_variant else None,
            degraded=failure.as_variant,
            cached=failure.cached,
        )

    def error(
        self,
        call: Call,
        model: ModelConfig | None,
        exc: BaseException,
        *,
        variant: str | None = None,
        degraded: bool = False,
        cached: bool = False,
    ) -> None:
        """One failure event for ``model`` (None: the requested id, when no model was found)."""
        self._emit(
            PredictionEvent(
                model_id=model.id if model else call.requested_id,
                requested_model_id=call.requested_id,
                model_version=model.version if model else "",
                timestamp=time.time(),
                latency_ms=call.latency_ms(),
                success=False,
                cached=cached,
                degraded=degraded,
                variant=variant,
                provider=model.provider if model else None,
                tenant=call.ctx.get("tenant"),
                error=str(exc)[:500],
                error_type=type(exc).__name__,
            )
        )

    @staticmethod
    def failed_result(call: Call, model: ModelConfig | None, exc: BaseException) -> PredictionResult:
        """A batch row's result when it got no answer (the row holds the error instead of raising)."""
        return PredictionResult(
            prediction=None,
            confidence=0.0,
            model_id=model.id if model else call.requested_id,
            model_version=model.version if model else "",
            requested_model_id=call.requested_id,
            variant=call.variant,
            latency_ms=call.latency_ms(),
            error=ErrorInfo.from_exception(exc),
            exception=exc,
        )

    def _emit(self, event: PredictionEvent) -> None:
        try:  # built here from checked numbers: the monitor's own checks would only repeat them
            self.monitor.record_checked(event)
        except Exception:  # the monitor isolates sinks; this guards against the monitor itself
            log.exception("monitor failed to record an event")
