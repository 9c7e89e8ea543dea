"""Joining reported true outcomes to the predictions they belong to (accuracy and MAE).

Two bounded maps, both FIFO at ``max_outcomes`` entries: *pending* (prediction id -> the successful
event, filled by every ``record``) and *resolved* (prediction id -> the scored outcome). Reporting
again for the same id replaces the earlier outcome (a correction), even after its event has left
the pending map.

Scoring: the prediction (``event.prediction``) is first reduced to the thing a caller compares:
a mapping gives its ``label``, ``class``, ``risk`` or ``sentiment`` key (first present), else its
``value``, ``score`` or ``probability`` key, else stays whole. An actual given as a mapping is
reduced the same way, so a caller may pass back the prediction's own shape. Then, unless ``kind``
says otherwise, two real numbers (not bools) are a regression pair scored by absolute error;
anything else is a label scored by equality.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from hotcrm_ai.errors import FieldError, ValidationError

if TYPE_CHECKING:
    from hotcrm_ai.monitor.store import EventRow
    from hotcrm_ai.types import PredictionEvent

LABEL_KEYS = ("label", "class", "risk", "sentiment")
VALUE_KEYS = ("value", "score", "probability")
KINDS = ("label", "value")
_COMPARED_KEYS = LABEL_KEYS + VALUE_KEYS
_SHARDS = 256  # pending-outcome dicts (a power of two); see OutcomeTracker.__init__
_SHARD_MASK = _SHARDS - 1
# an EventRow's success, prediction_id, model_id, variant, timestamp and prediction
_REMEMBERED = itemgetter(5, 12, 0, 9, 3, 17)


@attrs.frozen
class Outcome:
    """One scored outcome: ``correct`` for a label, ``abs_error`` for a value."""

    prediction_id: str
    model_id: str
    variant: str | None
    timestamp: float  # the prediction's time, so windows select outcomes by when the prediction was made
    kind: str
    prediction: Any
    actual: Any
    correct: bool | None = None
    abs_error: float | None = None


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    """``math.isfinite`` that is False (not OverflowError) for an int beyond float range."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


_SCALARS = frozenset((float, int, str, bool, type(None)))


def comparable(value: Any) -> Any:
    """The part of a prediction (or an actual) that is compared (see the module docstring)."""
    if type(value) in _SCALARS:  # every pending prediction passes here: no ABC check for a plain value
        return value
    if type(value) is dict or isinstance(value, Mapping):
        for key in _COMPARED_KEYS:
            if key in value:
                return value[key]
    return value


def score(event: PredictionEvent, actual: Any, kind: str | None = None) -> Outcome:
    predicted = comparable(getattr(event, "prediction", None))
    truth = comparable(actual)
    if kind is None:
        kind = "value" if _is_number(predicted) and _is_number(truth) else "label"
    elif kind not in KINDS:
        raise ValidationError([FieldError("kind", f"one of {', '.join(KINDS)} or None", repr(kind))], subject="outcome")
    if _is_number(truth) and not _finite(truth):
        raise ValidationError([FieldError("actual", "a finite number", repr(truth))], subject="outcome")
    common = {
        "prediction_id": event.prediction_id,
        "model_id": event.model_id,
        "variant": event.variant,
        "timestamp": event.timestamp,
        "kind": kind,
        "prediction": predicted,
        "actual": truth,
    }
    if kind == "value":
        if not _is_number(truth):
            expected = "a number (kind 'value')"
            raise ValidationError([FieldError("actual", expected, repr(truth)[:80])], subject="outcome")
        if not _is_number(predicted) or not _finite(predicted):
            raise ValidationError(
                [FieldError("prediction_id", "a prediction with a numeric value (kind 'value')", repr(predicted)[:80])],
                subject="outcome",
            )
        return Outcome(**common, abs_error=abs(float(predicted) - float(truth)))
    return Outcome(**common, correct=bool(predicted == truth))


class OutcomeTracker:
    """The pending and resolved maps, thread-safe and bounded by ``max_outcomes`` each."""

    def __init__(self, max_outcomes: int) -> None:
        if isinstance(max_outcomes, bool) or not isinstance(max_outcomes, int) or max_outcomes < 0:
            from hotcrm_ai.errors import ConfigError

            raise ConfigError(f"max_outcomes: expected an integer >= 0, got {max_outcomes!r}")
        self.max_outcomes = max_outcomes
        # pending records in many small dicts instead of one: a dict that keeps inserting and deleting
        # is rebuilt whenever its deleted slots run out, and one table of 100,000 entries is a ~5 MB
        # block allocated anew each time: the C allocator cannot always reuse the old block's place, so
        # RSS grew in steps of several MB while the Python heap stayed flat. Shards of a few hundred
        # entries are rebuilt as blocks of a few KB, which the allocator recycles.
        # Each value is an exact tuple of strings, floats, None (and the reduced prediction): the
        # collector stops tracking such a tuple the first time it sees it, so the 100,000 pending
        # entries never enter the full collections (a tuple subclass such as a NamedTuple stays
        # tracked for good, and each full collection walked all of them: tens of milliseconds).
        self._shards: tuple[dict[str, _Stored], ...] = tuple({} for _ in range(_SHARDS))
        self._order: deque[str] = deque()  # pending ids, oldest first (ids are unique per prediction)
        self._resolved: OrderedDict[str, Outcome] = OrderedDict()
        self._by_model: dict[str, dict[str, Outcome]] = {}
        self._lock = threading.Lock()

    def remember(self, event: PredictionEvent) -> None:
        """Hot path: keep a successful event so an outcome can be joined to it later."""
        self._keep(event.prediction_id, event.model_id, event.variant, event.timestamp, event.prediction)

    def remember_row(self, row: EventRow) -> None:
        """``remember`` for one successful event given as a row (``monitor.store.EventRow``)."""
        self._keep(row[12], row[0], row[9], row[3], row[17])

    def _keep(self, key: str, model_id: str, variant: str | None, timestamp: float, prediction: Any) -> None:
        """Lock-free: dict assignment, ``deque.append`` and ``popleft`` are each atomic. Two threads
        trimming at once may drop one id more than needed, never leave the map above the bound."""
        if not self.max_outcomes:
            return
        if type(prediction) not in _SCALARS:
            prediction = comparable(prediction)
        self._shards[hash(key) & _SHARD_MASK][key] = (model_id, variant, timestamp, prediction)
        order = self._order
        order.append(key)
        if len(order) > self.max_outcomes:
            self._trim()

    def remember_rows(self, rows: Sequence[EventRow]) -> None:
        """``remember`` for events given as rows (``monitor.store.EventRow``), a batch's."""
        if not self.max_outcomes:
            return
        shards, scalars, mask = self._shards, _SCALARS, _SHARD_MASK
        keys = []
        for success, key, model_id, variant, timestamp, prediction in map(_REMEMBERED, rows):
            if not success or not key:  # only answered predictions are joined to outcomes
                continue
            if type(prediction) not in scalars:
                prediction = comparable(prediction)
            shards[hash(key) & mask][key] = (model_id, variant, timestamp, prediction)
            keys.append(key)
        self._order.extend(keys)
        self._trim()

    def _trim(self) -> None:
        order, shards, popleft, bound = self._order, self._shards, self._order.popleft, self.max_outcomes
        while len(order) > bound:
            try:
                old = popleft()
            except IndexError:  # another thread trimmed first
                break
            shards[hash(old) & _SHARD_MASK].pop(old, None)

    def resolve(self, prediction_id: str, actual: Any, kind: str | None = None) -> Outcome:
        if not isinstance(prediction_id, str) or not prediction_id:
            raise ValidationError(
                [FieldError("prediction_id", "a non-empty string", repr(prediction_id)[:80])], subject="outcome"
            )
        with self._lock:
            stored = self._shards[hash(prediction_id) & _SHARD_MASK].get(prediction_id)
            previous = self._resolved.get(prediction_id)
        event = None if stored is None else _Pending(prediction_id, *stored)
        if event is None and previous is None:
            raise ValidationError(
                [
                    FieldError(
                        "prediction_id",
                        "the id of a successful prediction recorded by this monitor "
                        f"(the newest {self.max_outcomes:,} are kept)",
                        repr(prediction_id)[:80],
                    )
                ],
                subject="outcome",
            )
        if event is None:
            assert previous is not None
            event = _EventView(previous)  # type: ignore[assignment]
        outcome = score(event, actual, kind)  # type: ignore[arg-type]  # _Pending and _EventView quack alike
        with self._lock:
            self._store(outcome)
        return outcome

    def _store(self, outcome: Outcome) -> None:
        key = outcome.prediction_id
        old = self._resolved.pop(key, None)
        if old is not None:
            self._by_model.get(old.model_id, {}).pop(key, None)
        self._resolved[key] = outcome
        self._by_model.setdefault(outcome.model_id, {})[key] = outcome
        while len(self._resolved) > self.max_outcomes:
            gone_key, gone = self._resolved.popitem(last=False)
            self._by_model.get(gone.model_id, {}).pop(gone_key, None)

    def outcomes(self, model_id: str) -> list[Outcome]:
        with self._lock:
            return list(self._by_model.get(model_id, {}).values())

    def clear(self, model_id: str | None = None) -> None:
        with self._lock:
            if model_id is None:
                for shard in self._shards:
                    shard.clear()
                self._order.clear()
                self._resolved.clear()
                self._by_model.clear()
                return
            for shard in self._shards:
                for key in [k for k, e in shard.copy().items() if e[0] == model_id]:
                    shard.pop(key, None)
            for key in self._by_model.pop(model_id, {}):
                self._resolved.pop(key, None)


_Stored = tuple[str, str | None, float, Any]
"""What joining an outcome needs from a successful event, kept instead of the whole event: model id,
variant, timestamp and the prediction already reduced to the part outcomes are compared with (the
prediction id is the map's key). About 250 bytes per pending prediction instead of about 700 (the
event with its dicts, strings and error fields). A plain tuple on purpose (see ``OutcomeTracker``)."""


class _Pending(NamedTuple):
    """A pending entry with its id, rebuilt when an outcome is reported (``score`` reads it by name)."""

    prediction_id: str
    model_id: str
    variant: str | None
    timestamp: float
    prediction: Any


@attrs.frozen
class _EventView:
    """Enough of an event, rebuilt from an earlier outcome, to re-score a corrected actual."""

    _outcome: Outcome

    @property
    def prediction(self) -> Any:
        return self._outcome.prediction

    @property
    def prediction_id(self) -> str:
        return self._outcome.prediction_id

    @property
    def model_id(self) -> str:
        return self._outcome.model_id

    @property
    def variant(self) -> str | None:
        return self._outcome.variant

    @property
    def timestamp(self) -> float:
        return self._outcome.timestamp
