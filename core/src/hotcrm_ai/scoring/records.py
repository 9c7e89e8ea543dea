"""``ChunkRecord``: one aggregated monitor record per scored chunk (counts, failures, latency per row),
instead of one ``PredictionEvent`` per row."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class ChunkRecord:
    """What one model served for one chunk of a table."""

    model_id: str
    requested_model_id: str
    model_version: str
    timestamp: float  # epoch seconds, when the chunk finished
    rows: int
    failed: int
    latency_ms: float  # the whole chunk, validation to answers
    variant: str | None = None
    provider: str | None = None
    tenant: str | None = None
    mean_confidence: float = 0.0
    error_types: dict[str, int] = attrs.field(factory=dict)

    @property
    def latency_per_row_ms(self) -> float:
        return self.latency_ms / self.rows if self.rows else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "latency_per_row_ms": self.latency_per_row_ms}
