"""What the cache manager reports: its own counters, the degradation state, and each backend's figures."""

from __future__ import annotations

import re
from typing import Any

import attrs

from hotcrm_ai.secrets import mask_urls

_PASSWORD_PARAM = re.compile(r"(?i)(password|passwd|pwd|token|secret)=([^&\s,;]+)")


def redact(text: str, limit: int = 300) -> str:
    """``text`` with URL credentials and ``password=`` values masked, cut to ``limit`` characters."""
    text = mask_urls(text)
    text = _PASSWORD_PARAM.sub(r"\1=***", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_error(exc: BaseException) -> str:
    """``Type: message`` with secrets redacted: what ``last_error`` shows."""
    message = str(exc)
    return redact(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)


@attrs.frozen
class CacheStats:
    """Counters since the manager was built. ``degraded`` means Redis (or the configured backend) is
    unreachable and the in-memory fallback serves; ``active_backend`` says which one answers now."""

    backend: str
    active_backend: str
    enabled: bool
    degraded: bool
    hits: int = 0
    misses: int = 0
    sets: int = 0
    skipped: int = 0  # set() calls not stored: ttl <= 0, value None or not JSON-serialisable
    deletes: int = 0
    errors: int = 0  # backend faults (raised or timed out), including failed recovery probes
    decode_errors: int = 0  # stored bytes that were not ours: served as misses and removed
    fallbacks: int = 0  # operations the in-memory fallback served while degraded
    recoveries: int = 0  # times the backend came back after a fault
    single_flight_shared: int = 0  # callers served by a concurrent caller's computation
    evictions: int = 0
    size: int | None = None  # entries in the active backend (None when it could not be counted)
    hit_rate: float = 0.0  # percent of lookups that hit, 0-100
    last_error: str | None = None  # redacted; never a password or URL credential
    last_error_age_s: float | None = None
    retry_in_s: float | None = None  # while degraded: seconds until the next probe of the backend
    backend_stats: dict[str, Any] = attrs.field(factory=dict)
    fallback_stats: dict[str, Any] = attrs.field(factory=dict)
