"""Health from recent statistics: fixed thresholds and reason texts, so dashboards and alerts can match them.

Evaluated in order, all comparisons strict, over the last ``window_s`` (default 300 s):
no events -> healthy "No recent predictions"; error rate > 10 % -> unhealthy "High error rate: X.X%";
> 5 % -> degraded "Elevated error rate: X.X%"; p95 latency > 500 ms -> degraded
"High latency: P95 = Nms"; otherwise healthy with no reason. Numbers are rounded half away from
zero, like JS ``toFixed``. There is no cache-hit or confidence rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from hotcrm_ai.monitor.stats import ModelStats  # at runtime: cattrs resolves the annotation
from hotcrm_ai.text import round_half_up

if TYPE_CHECKING:
    from hotcrm_ai.config import HealthThresholds

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"


@attrs.frozen
class HealthStatus:
    status: str  # "healthy" | "degraded" | "unhealthy"
    reason: str | None
    model_id: str
    stats: ModelStats | None = None
    dropped: int = 0  # events a store writer dropped for this model (see docs/store.md)

    @property
    def healthy(self) -> bool:
        return self.status == HEALTHY


def evaluate(model_id: str, stats: ModelStats | None, thresholds: HealthThresholds) -> HealthStatus:
    if stats is None:
        return HealthStatus(HEALTHY, "No recent predictions", model_id, None)
    if stats.error_rate > thresholds.error_rate_unhealthy:
        return HealthStatus(UNHEALTHY, f"High error rate: {round_half_up(stats.error_rate, 1)}%", model_id, stats)
    if stats.error_rate > thresholds.error_rate_degraded:
        return HealthStatus(DEGRADED, f"Elevated error rate: {round_half_up(stats.error_rate, 1)}%", model_id, stats)
    if stats.latency_p95_ms > thresholds.p95_latency_ms:
        reason = f"High latency: P95 = {round_half_up(stats.latency_p95_ms, 0)}ms"
        return HealthStatus(DEGRADED, reason, model_id, stats)
    return HealthStatus(HEALTHY, None, model_id, stats)
