"""Plain records the store hands back: a registry snapshot and one logged prediction."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class RegistrySnapshot:
    """The registry as stored: model rows, aliases per model id, revision per model id, and the
    change token (newest history id) it was read at."""

    token: int
    models: list[dict[str, Any]]
    aliases: dict[str, dict[str, str]]
    revisions: dict[str, int]


@attrs.frozen
class LoggedPrediction:
    """What served one answer: model version, config digest, variant, and how it went."""

    prediction_id: str
    timestamp: float
    tenant: str | None
    requested_model_id: str
    model_id: str
    model_version: str
    variant: str | None
    config_digest: str | None
    cached: bool
    degraded: bool
    degraded_reason: str | None
    latency_ms: float
    confidence: float
    output: Any = None
    features: Any = None
