"""Performance monitor: per-model and per-variant statistics, health, recent errors and outcome
feedback over prediction events, with pluggable sinks (see docs/monitor.md)."""

from hotcrm_ai.monitor.explanations import ExplainStats
from hotcrm_ai.monitor.health import HealthStatus
from hotcrm_ai.monitor.monitor import PerformanceMonitor
from hotcrm_ai.monitor.outcomes import Outcome
from hotcrm_ai.monitor.stats import ModelStats
from hotcrm_ai.monitor.store import EventQuery, EventStore

__all__ = ["EventQuery", "EventStore", "ExplainStats", "HealthStatus", "ModelStats", "Outcome", "PerformanceMonitor"]
