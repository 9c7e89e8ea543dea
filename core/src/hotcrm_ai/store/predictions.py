"""``ai.predictions``: look a prediction up by id, long after the fact."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotcrm_ai.errors import FieldError, StoreError, ValidationError

if TYPE_CHECKING:
    from hotcrm_ai.store.link import StoreLink
    from hotcrm_ai.store.monitor import StoreMonitor
    from hotcrm_ai.store.records import LoggedPrediction


class PredictionLog:
    def __init__(self, link: StoreLink | None, monitor: StoreMonitor | None) -> None:
        self._link = link
        self._monitor = monitor

    def get(self, prediction_id: str) -> LoggedPrediction:
        """Which model version, configuration (digest) and variant served ``prediction_id``."""
        if self._link is None or self._monitor is None:
            raise StoreError('the prediction log needs a store; [store] url is "memory"')
        if not isinstance(prediction_id, str) or not prediction_id:
            raise ValidationError([FieldError("prediction_id", "a non-empty string", repr(prediction_id)[:80])])
        self._link.ensure()
        self._monitor.writer.flush(2.0)
        found = self._link.store.prediction(prediction_id)
        if found is None:
            raise ValidationError(
                [
                    FieldError(
                        "prediction_id",
                        "the id of a logged prediction (sampled by log_sample_rate, kept retention_days)",
                        repr(prediction_id)[:80],
                    )
                ],
                subject="predictions",
            )
        return found
