"""The performance monitor: records every prediction event, fans it out to sinks, answers queries.

``record`` is on the hot path of every prediction, so it only validates three numbers, appends to
the in-memory store and hands the event to each other sink; every statistic is computed lazily when
asked (``stats``, ``health``). Sinks are isolated: one that raises is counted in ``sink_errors``
(and logged once) and the others still run; ``record`` itself never raises because of a sink.

The queryable store is the configured sink that implements ``EventQuery`` (the built-in ``memory``
sink does). If the configured sinks include none, the monitor keeps a private ``EventStore``, so
stats, health and recent errors always work whatever ``[monitor] sinks`` says. Its bound is
``[monitor] max_events_per_model``.
"""

from __future__ import annotations

import logging
import math
import operator
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hotcrm_ai.errors import FieldError, ValidationError
from hotcrm_ai.monitor import health as _health
from hotcrm_ai.monitor import stats as _stats
from hotcrm_ai.monitor.explanations import ExplainCounter, ExplainStats
from hotcrm_ai.monitor.outcomes import Outcome, OutcomeTracker
from hotcrm_ai.monitor.store import EventQuery, EventRow, EventStore
from hotcrm_ai.types import PredictionEvent

if TYPE_CHECKING:
    from hotcrm_ai.config import MonitorSettings
    from hotcrm_ai.interfaces import MonitorSink
    from hotcrm_ai.monitor.health import HealthStatus
    from hotcrm_ai.monitor.stats import ModelStats
    from hotcrm_ai.scoring.records import ChunkRecord

log = logging.getLogger("hotcrm_ai.monitor")
_INF = math.inf
_SUCCESS_IN_ROW = _stats.row_index("success")
_MODEL_ID = operator.itemgetter(0)  # an EventRow's model_id


class PerformanceMonitor:
    """Per-model (and per-variant) prediction statistics, health and outcome feedback."""

    def __init__(
        self,
        sinks: Sequence[MonitorSink] = (),
        settings: MonitorSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if settings is None:
            from hotcrm_ai.config import MonitorSettings

            settings = MonitorSettings()
        self.settings = settings
        self._clock = clock
        store: EventQuery | None = next((s for s in sinks if isinstance(s, EventQuery)), None)
        if store is None:
            store = EventStore(settings.max_events_per_model)
        else:
            store.resize(settings.max_events_per_model)
        self._store: EventQuery = store
        self._sinks: tuple[MonitorSink, ...] = tuple(sinks)
        self._others: tuple[MonitorSink, ...] = tuple(s for s in sinks if s is not store)
        self._outcomes = OutcomeTracker(settings.max_outcomes)
        self._store_record = store.record  # bound once: record() is on every prediction's path
        self._remember = self._outcomes.remember
        self._remember_row = self._outcomes.remember_row
        self._rows_store = store if type(store) is EventStore else None  # takes a batch's rows as they are
        self._sink_errors: dict[str, int] = {}
        self._errors_lock = threading.Lock()
        self._closed = False
        self._chunks: deque[ChunkRecord] = deque(maxlen=max(1, settings.max_events_per_model))
        # a subclass that extends record() (the store's monitor logs each event) gets every event
        # through it, from record_checked, record_many and record_checked_rows too
        self._own_record = type(self).record is PerformanceMonitor.record
        self._explained = ExplainCounter()

    # -- recording (hot path) -----------------------------------------------------------------

    def record(self, event: PredictionEvent) -> None:
        """Store ``event`` and send it to every other sink. Raises only for an invalid event."""
        if not isinstance(event, PredictionEvent):
            raise ValidationError([FieldError("event", "a PredictionEvent", type(event).__name__)], subject="monitor")
        try:  # chained comparisons are False for NaN and for infinities: one cheap test per field
            valid = (
                0.0 <= event.latency_ms < _INF and -_INF < event.timestamp < _INF and -_INF < event.confidence < _INF
            )
        except TypeError:
            valid = False
        if not valid:
            raise _invalid_event(event)
        self._accept(event)

    def record_checked(self, event: PredictionEvent) -> None:
        """``record`` without the checks, for an event whose numbers are known good: the prediction
        service's (latency from ``perf_counter``, ``time.time()``, a confidence already checked by
        ``PredictionOutput`` or the cache record). Anyone else calls ``record``."""
        if self._own_record:
            self._accept(event)
        else:
            self.record(event)

    def _accept(self, event: PredictionEvent) -> None:
        """Store a checked event, remember it for outcomes, and send it to every other sink."""
        self._store_record(event)
        if event.success and event.prediction_id:
            self._remember(event)
        for sink in self._others:
            try:
                sink.record(event)
            except Exception as exc:  # a sink never fails a prediction
                self._sink_failed(sink, exc)

    def record_many(self, events: Sequence[PredictionEvent]) -> None:
        """``record`` for each of ``events`` (a batch's rows), with the lookups done once: the same
        checks, the same store, outcomes and sinks, one event each. Every event is checked before
        any is stored, so an invalid one records none of them."""
        for event in events:
            if not isinstance(event, PredictionEvent):
                raise ValidationError(
                    [FieldError("event", "a PredictionEvent", type(event).__name__)], subject="monitor"
                )
            try:
                valid = (
                    0.0 <= event.latency_ms < _INF
                    and -_INF < event.timestamp < _INF
                    and -_INF < event.confidence < _INF
                )
            except TypeError:
                valid = False
            if not valid:
                raise _invalid_event(event)
        if not self._own_record:
            for event in events:
                self.record(event)
            return
        store, remember = self._store_record, self._remember
        for event in events:
            store(event)
            if event.success and event.prediction_id:
                remember(event)
        for sink in self._others:
            for event in events:
                try:
                    sink.record(event)
                except Exception as exc:  # a sink never fails a prediction
                    self._sink_failed(sink, exc)

    def record_checked_row(self, row: EventRow) -> None:
        """``record_checked`` for one event given as a row (``EventRow``), a single prediction's. With
        only the built-in store and no subclass extending ``record``, the row is stored and remembered
        as it is: no event object is built, and a row of strings and numbers is a tuple the collector
        stops tracking (a ring of 10,000 events would otherwise be walked by every full collection)."""
        store = self._rows_store
        if store is None or self._others or not self._own_record:
            self.record_checked(PredictionEvent(*row))
            return
        store.record_row(row)
        if row[5] and row[12]:  # success and prediction_id: answered predictions are joined to outcomes
            self._remember_row(row)

    def record_checked_rows(self, rows: Sequence[EventRow]) -> None:
        """``record_checked`` for a batch of events given as rows (``EventRow``: the fields in
        declaration order), the prediction service's cached batch. With only the built-in store and
        no subclass extending ``record``, the rows go to the store and the outcome tracker as they
        are and no event object is built; otherwise each row becomes its event on the usual path."""
        store = self._rows_store
        if store is None or self._others or not self._own_record:
            record = self.record_checked
            for row in rows:
                record(PredictionEvent(*row))
            return
        models = set(map(_MODEL_ID, rows))
        if len(models) == 1:
            store.record_rows(rows[0][0], rows)
        else:
            for model_id in models:
                store.record_rows(model_id, [row for row in rows if row[0] == model_id])
        self._outcomes.remember_rows(rows)

    def record_chunk(self, record: ChunkRecord) -> None:
        """Keep one aggregated record of a scored chunk (``AICloud.score``) and send it to every sink
        that has ``record_chunk``; sinks without it are skipped (per-row events are not invented)."""
        self._chunks.append(record)
        for sink in self._sinks:
            method = getattr(sink, "record_chunk", None)
            if method is None:
                continue
            try:
                method(record)
            except Exception as exc:  # a sink never fails a scoring run
                self._sink_failed(sink, exc)

    def record_explanation(
        self,
        model_id: str,
        method: str | None,
        *,
        provider_calls: int = 0,
        evaluations: int = 0,
        rows: int = 1,
        failed: bool = False,
    ) -> None:
        """Count an explanation (``rows`` of them for a batch) and the provider scoring it cost, apart
        from the prediction events (see ``monitor.explanations``)."""
        self._explained.add(
            model_id, method, rows=rows, failed=failed, provider_calls=provider_calls, evaluations=evaluations
        )

    def explain_stats(self, model_id: str) -> ExplainStats | None:
        """The model's explanation counts, or None before its first explanation."""
        return self._explained.stats(model_id)

    def chunks(self, model_id: str | None = None) -> list[ChunkRecord]:
        """Retained chunk records (oldest first), of one model (served or requested) or all."""
        return [c for c in self._chunks if model_id is None or model_id in (c.model_id, c.requested_model_id)]

    def _sink_failed(self, sink: MonitorSink, exc: BaseException) -> None:
        name = getattr(sink, "name", type(sink).__name__)
        with self._errors_lock:
            count = self._sink_errors[name] = self._sink_errors.get(name, 0) + 1
        if count == 1:
            log.warning("monitor sink %r failed (%s: %s); further failures are counted", name, type(exc).__name__, exc)
        else:
            log.debug("monitor sink %r failed again (%d): %s", name, count, type(exc).__name__)

    # -- queries --------------------------------------------------------------------------------

    def stats(self, model_id: str, *, window_s: float | None = None, variant: str | None = None) -> ModelStats | None:
        """Figures for the events the model served (``variant``: only that variant's), or None."""
        window = _window(window_s)
        return _stats.compute(
            model_id,
            self._snapshot(model_id),
            self._outcomes.outcomes(model_id),
            variant=variant,
            window_s=window,
            now=self._clock(),
        )

    def _snapshot(self, model_id: str) -> Sequence[PredictionEvent | EventRow]:
        """The model's retained events for reading: as the built-in store keeps them (batch rows left
        as rows), else as the queryable sink gives them."""
        store = self._rows_store  # the built-in store exactly (a subclass may shape events() its own way)
        return store.items(model_id) if store is not None else self._store.events(model_id)

    def all_stats(self, *, window_s: float | None = None) -> dict[str, ModelStats]:
        """Stats of every model with events (in the window), keyed by model id."""
        window = _window(window_s)
        result: dict[str, ModelStats] = {}
        for model_id in self._store.model_ids():
            stats = self.stats(model_id, window_s=window)
            if stats is not None:
                result[model_id] = stats
        return result

    def health(self, model_id: str, *, variant: str | None = None) -> HealthStatus:
        thresholds = self.settings.health
        stats = self.stats(model_id, window_s=thresholds.window_s, variant=variant)
        return _health.evaluate(model_id, stats, thresholds)

    def recent_errors(self, model_id: str, limit: int = 10) -> list[PredictionEvent]:
        """The model's last ``limit`` failures, newest first. ``limit=0`` gives ``[]``.

        (0 means none, not all.)
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValidationError([FieldError("limit", "an integer >= 0", repr(limit))], subject="recent_errors")
        found: list[PredictionEvent] = []
        if limit == 0:
            return found
        success = _SUCCESS_IN_ROW
        for item in reversed(self._snapshot(model_id)):
            if isinstance(item, tuple):  # a batch row: an event is built only for a failure
                if item[success]:
                    continue
                event = PredictionEvent(*item)
            else:
                event = item
            if not event.success:
                found.append(event)
                if len(found) == limit:
                    break
        return found

    def model_ids(self) -> list[str]:
        """Models with retained events."""
        return self._store.model_ids()

    # -- outcomes -------------------------------------------------------------------------------

    def record_outcome(self, prediction_id: str, actual: Any, *, kind: str | None = None) -> Outcome:
        """Join the true outcome to a recorded successful prediction; stats then carry accuracy / MAE.

        ``kind``: "label" (scored by equality), "value" (absolute error) or None to decide from the
        values (two numbers -> value). An unknown id raises ``ValidationError`` naming it.
        """
        return self._outcomes.resolve(prediction_id, actual, kind)

    # -- housekeeping -------------------------------------------------------------------------

    @property
    def sink_errors(self) -> dict[str, int]:
        with self._errors_lock:
            return dict(self._sink_errors)

    @property
    def store(self) -> EventQuery:
        return self._store

    @property
    def sinks(self) -> tuple[MonitorSink, ...]:
        return self._sinks

    def clear(self, model_id: str | None = None) -> None:
        """Forget one model's events, outcomes and explanation counts, or everything."""
        self._store.clear(model_id)
        self._outcomes.clear(model_id)
        self._explained.clear(model_id)

    def close(self) -> None:
        """Close every sink (each isolated). Events still reach the in-memory store afterwards."""
        if self._closed:
            return
        self._closed = True
        others, self._others = self._others, ()
        for sink in (*others, self._store):
            try:
                sink.close()
            except Exception as exc:
                self._sink_failed(sink, exc)

    def __enter__(self) -> PerformanceMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        names = ", ".join(getattr(s, "name", type(s).__name__) for s in self._sinks) or "-"
        return f"PerformanceMonitor(sinks=[{names}], store={self._store!r})"


def _window(window_s: float | None) -> float | None:
    if window_s is None:
        return None
    valid = isinstance(window_s, (int, float)) and not isinstance(window_s, bool)
    if not valid or not (math.isfinite(window_s) and window_s > 0):
        raise ValidationError(
            [FieldError("window_s", "a number of seconds > 0, or None for all retained events", repr(window_s))],
            subject="monitor query",
        )
    return float(window_s)


def _finite(value: Any, minimum: float = -math.inf) -> bool:
    real = isinstance(value, (int, float)) and not isinstance(value, bool)
    return real and math.isfinite(value) and value >= minimum


def _invalid_event(event: PredictionEvent) -> ValidationError:
    errors = []
    if not _finite(event.latency_ms, 0.0):
        errors.append(FieldError("latency_ms", "a finite number >= 0", repr(event.latency_ms)[:80]))
    if not _finite(event.timestamp):
        errors.append(FieldError("timestamp", "finite epoch seconds", repr(event.timestamp)[:80]))
    if not _finite(event.confidence):
        errors.append(FieldError("confidence", "a finite number", repr(event.confidence)[:80]))
    return ValidationError(errors, subject="monitor event")
