"""The performance monitor over the store: stats, health, recent errors and outcomes across every
process that writes to it.

``record`` does what the in-memory monitor does (the in-memory ring stays the fallback) and queues
the event for the background writer, so the request path never touches the database. Queries flush
this process's queue first (read your own writes), then aggregate in SQL; while the store is
unreachable they answer from this process's memory, as a store-less monitor would.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from hotcrm_ai.errors import FieldError, StoreError, StoreUnavailableError, ValidationError
from hotcrm_ai.monitor import outcomes as _outcomes
from hotcrm_ai.monitor.monitor import PerformanceMonitor, _window
from hotcrm_ai.store.digest import config_digest
from hotcrm_ai.store.writer import BackgroundWriter
from hotcrm_ai.types import PredictionEvent

if TYPE_CHECKING:
    from hotcrm_ai.config import MonitorSettings, StoreSettings
    from hotcrm_ai.interfaces import MonitorSink
    from hotcrm_ai.monitor.health import HealthStatus
    from hotcrm_ai.monitor.outcomes import Outcome
    from hotcrm_ai.monitor.stats import ModelStats
    from hotcrm_ai.registry import ModelRegistry
    from hotcrm_ai.store.link import StoreLink

_FLUSH_S = 2.0


class StoreMonitor(PerformanceMonitor):
    def __init__(
        self,
        sinks: Sequence[MonitorSink],
        settings: MonitorSettings,
        *,
        link: StoreLink,
        store_settings: StoreSettings,
        registry: ModelRegistry,
        clock: Callable[[], float] | None = None,
    ) -> None:
        import time

        super().__init__(sinks, settings, clock=clock or time.time)
        self.link = link
        self.store_settings = store_settings
        self._registry = registry
        self._digests: dict[tuple[str, str], str | None] = {}
        self._sample = store_settings.log_sample_rate
        self._rng = random.Random()
        self.writer = BackgroundWriter(
            self._write,
            queue_size=store_settings.queue_size,
            batch_size=store_settings.batch_size,
            flush_interval_s=store_settings.flush_interval_s,
            reconnect_s=store_settings.reconnect_s,
            on_idle=self._tick,
            idle_every_s=store_settings.refresh_s,
        )

    def _tick(self) -> None:
        """Between batches: reconnect when the store is down, else pick up registry changes."""
        if not self.link.ready:
            try:
                self.link.ensure()
            except StoreError:
                return
        refresh = getattr(self._registry, "refresh", None)
        if refresh is not None:
            refresh()

    # -- recording ------------------------------------------------------------------------------

    def record(self, event: PredictionEvent) -> None:
        super().record(event)
        logged = bool(event.success and event.prediction_id) and (
            self._sample >= 1.0 or self._rng.random() < self._sample
        )
        self.writer.put(event.model_id, (event, logged, None))

    def log_features(self, prediction_id: str, model_id: str, features: Any) -> None:
        """Attach the input to a logged prediction; only with ``[store] log_features = true`` (CRM
        rows hold personal data). Queued behind the prediction's event, so it lands after it."""
        if self.store_settings.log_features and prediction_id:
            self.writer.put(model_id, (None, False, (prediction_id, _plain(dict(features)))))

    def _write(self, items: Sequence[tuple[PredictionEvent | None, bool, Any]], drops: dict[str, int]) -> None:
        self.link.ensure()
        events, logged, features = [], [], []
        for event, log_it, extra in items:
            if event is None:
                features.append(extra)
                continue
            events.append(_event_row(event))
            if log_it:
                logged.append(self._log_row(event))
        try:
            self.link.store.write_events(events, logged, drops, self.writer.process_id, features)
        except StoreUnavailableError:
            self.link.lost()
            raise

    def _log_row(self, event: PredictionEvent) -> dict[str, Any]:
        key = (event.model_id, event.model_version)
        if key not in self._digests:
            model = self._registry.find(*key)
            self._digests[key] = config_digest(model) if model is not None else None
        return {
            "prediction_id": event.prediction_id,
            "timestamp": event.timestamp,
            "config_digest": self._digests[key],
            "features": None,
        }

    # -- queries --------------------------------------------------------------------------------

    def _shared(self) -> bool:
        """Whether queries can go to the store (after writing what this process queued)."""
        if not self.link.ready:
            try:
                self.link.ensure()
            except StoreError:
                return False
        self.writer.flush(_FLUSH_S)
        return self.link.ready

    def stats(self, model_id: str, *, window_s: float | None = None, variant: str | None = None) -> ModelStats | None:
        window = _window(window_s)
        if self._shared():
            try:
                found = self.link.store.stats(
                    model_id,
                    variant=variant,
                    window_s=window,
                    now=self._clock(),
                    max_rows=self.store_settings.stats_max_rows,
                )
                return None if found is None else attrs.evolve(found, dropped=self._dropped(model_id))
            except StoreUnavailableError:
                self.link.lost()
        local = super().stats(model_id, window_s=window, variant=variant)
        return None if local is None else attrs.evolve(local, dropped=self.writer.drops().get(model_id, 0))

    def _dropped(self, model_id: str) -> int:
        return self.link.store.dropped(model_id) + max(0, self.writer.unwritten_drops(model_id))

    def all_stats(self, *, window_s: float | None = None) -> dict[str, ModelStats]:
        window = _window(window_s)
        result: dict[str, ModelStats] = {}
        for model_id in self.model_ids(window_s=window):
            stats = self.stats(model_id, window_s=window)
            if stats is not None:
                result[model_id] = stats
        return result

    def health(self, model_id: str, *, variant: str | None = None) -> HealthStatus:
        status = super().health(model_id, variant=variant)
        dropped = status.stats.dropped if status.stats is not None else self.writer.drops().get(model_id, 0)
        return attrs.evolve(status, dropped=dropped)

    def model_ids(self, window_s: float | None = None) -> list[str]:
        local = super().model_ids()
        if self._shared():
            try:
                shared = self.link.store.model_ids(window_s, self._clock())
                return sorted(set(shared) | (set(local) if window_s is None else set()))
            except StoreUnavailableError:
                self.link.lost()
        return local

    def recent_errors(self, model_id: str, limit: int = 10) -> list[PredictionEvent]:
        found = super().recent_errors(model_id, limit)  # validates limit
        if limit == 0 or not self._shared():
            return found
        try:
            rows = self.link.store.recent_errors(model_id, limit)
        except StoreUnavailableError:
            self.link.lost()
            return found
        return [_row_event(r) for r in rows]

    def record_outcome(self, prediction_id: str, actual: Any, *, kind: str | None = None) -> Outcome:
        """Scored against the prediction as the store recorded it, so any process can report it."""
        if not isinstance(prediction_id, str) or not prediction_id:
            raise ValidationError(
                [FieldError("prediction_id", "a non-empty string", repr(prediction_id)[:80])], subject="outcome"
            )
        if not self._shared():
            return super().record_outcome(prediction_id, actual, kind=kind)
        row = self.link.store.event(prediction_id)
        if row is None:
            return super().record_outcome(prediction_id, actual, kind=kind)  # raises naming the id
        outcome = _outcomes.score(_row_event(row), actual, kind)
        self.link.store.save_outcome(
            prediction_id,
            kind=outcome.kind,
            actual=_plain(outcome.actual),
            correct=outcome.correct,
            abs_error=outcome.abs_error,
        )
        return outcome

    @property
    def dropped(self) -> int:
        """Events this process's writer dropped (queue full)."""
        return self.writer.dropped

    def close(self) -> None:
        self.writer.close()
        super().close()


def _plain(value: Any) -> Any:
    import json

    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def _event_row(event: PredictionEvent) -> dict[str, Any]:
    return {
        "prediction_id": event.prediction_id,
        "timestamp": event.timestamp,
        "model_id": event.model_id,
        "requested_model_id": event.requested_model_id,
        "model_version": event.model_version,
        "variant": event.variant,
        "provider": event.provider,
        "tenant": event.tenant,
        "success": event.success,
        "latency_ms": event.latency_ms,
        "confidence": event.confidence,
        "cached": event.cached,
        "degraded": event.degraded,
        "degraded_reason": event.degraded_reason,
        "error_type": event.error_type,
        "error": event.error,
        "usage": event.usage or None,
        "prediction": event.prediction,
    }


def _row_event(row: dict[str, Any]) -> PredictionEvent:
    fields = {a.name for a in attrs.fields(PredictionEvent)}
    data = {k: v for k, v in row.items() if k in fields}
    data["usage"] = data.get("usage") or {}
    return PredictionEvent(**data)
