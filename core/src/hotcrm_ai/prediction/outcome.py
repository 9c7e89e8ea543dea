"""What one request's serving produces before it becomes a ``PredictionResult``, and what the cache keeps.

A served answer travels through the cache's single flight to every concurrent caller of the same
request, so it carries the failures met on the way (``failures``) instead of recording them: each
caller records its own events with its own latency and names (``prediction.recording``).
"""

from __future__ import annotations

from typing import Any

import attrs

from hotcrm_ai.cache.codec import Encoded, encode_document
from hotcrm_ai.types import Explanation, ModelConfig, PredictionOutput


@attrs.frozen
class CacheRecord:
    """One cached answer, stored as JSON through the cache manager's typed get and set."""

    prediction: Any
    confidence: float
    model_id: str
    model_version: str
    stored_at: float
    metadata: dict[str, Any] = attrs.field(factory=dict)
    explanation: Explanation | None = None


class RecordFields(tuple):  # type: ignore[type-arg]
    """Decoding a cache entry as ``RecordFields`` (``cache.codec.decode(raw, RecordFields)``) checks
    it exactly as a ``CacheRecord`` and gives a plain tuple of the record's fields in declaration
    order, ``CacheRecord(*fields)`` being the record: a batch of hits reads them without an object
    per row. Never instantiated: it names the structuring hook."""


def record_document(
    prediction: Any,
    confidence: float,
    model_id: str,
    model_version: str,
    stored_at: float,
    metadata: dict[str, Any],
    explanation: dict[str, Any] | None,
) -> dict[str, Any]:
    """A ``CacheRecord`` as the cache stores it (its JSON document; ``explanation`` unstructured)."""
    return {
        "prediction": prediction,
        "confidence": confidence,
        "model_id": model_id,
        "model_version": model_version,
        "stored_at": stored_at,
        "metadata": metadata,
        "explanation": explanation,
    }


@attrs.frozen
class Failure:
    """A failed attempt on the way to an answer: recorded as a failure event by every caller.

    ``as_variant`` says whether the event carries the caller's A/B variant (the model the caller
    was routed to) or none (a fallback model tried on its behalf)."""

    model: ModelConfig
    error: BaseException
    as_variant: bool = True
    cached: bool = False


@attrs.define
class Served:
    """One answer: from the provider, a fallback model or the cache (fresh or stale).

    ``output`` is what the provider returned or, for an answer from the cache, the ``CacheRecord``
    itself: both carry ``prediction``, ``confidence`` (0-100, checked when the record is read) and
    ``metadata``, and a hit need not copy them into a second object."""

    model: ModelConfig
    output: PredictionOutput | CacheRecord
    stored_at: float | None = None
    cached: bool = False
    degraded_reason: str | None = None
    explanation: Explanation | None = None
    failures: tuple[Failure, ...] = ()
    # a stale answer counts only as the failing model's (degraded) failure, not also as a success
    success_event: bool = True

    def record(self) -> CacheRecord | None:
        """What the cache keeps of this answer; None for degraded answers, which are never cached."""
        if self.degraded_reason is not None or self.stored_at is None:
            return None
        return CacheRecord(
            prediction=self.output.prediction,
            confidence=self.output.confidence,
            model_id=self.model.id,
            model_version=self.model.version,
            stored_at=self.stored_at,
            metadata=self.output.metadata,
            explanation=self.explanation,
        )

    def document(self) -> Encoded | dict[str, Any] | CacheRecord | None:
        """What ``record()`` stores, as the cache writes it: built straight from the answer (every
        miss stores one), or the record itself when an explanation needs the converter."""
        if self.degraded_reason is not None or self.stored_at is None:
            return None
        if self.explanation is not None:
            return self.record()
        out = self.output
        model = self.model
        document = record_document(
            out.prediction, out.confidence, model.id, model.version, self.stored_at, out.metadata, None
        )
        # the model's id and version are checked strings, ``stored_at`` a clock reading and the
        # confidence a checked 0-100 number: only what the provider chose is walked
        return encode_document(document, (out.prediction, out.metadata)) or document

    @classmethod
    def from_record(cls, model: ModelConfig, record: CacheRecord) -> Served:
        return cls(model, record, stored_at=record.stored_at, cached=True, explanation=record.explanation)


@attrs.frozen
class Refused:
    """No answer at all: ``error`` is raised to every caller after it records ``failures``."""

    error: BaseException
    failures: tuple[Failure, ...] = ()

    def document(self) -> None:
        """What the cache keeps of no answer: nothing (as ``Served.document`` of a degraded one)."""
        return None
