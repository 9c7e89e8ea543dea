"""``Retry-After`` parsing for HTTP providers: the one place that turns a server's "wait" into seconds.

A provider raises ``ProviderRateLimitError(retry_after=...)`` (or a 5xx with it) and the prediction
service waits that long before its next attempt, so every HTTP provider must read the header the same way.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

# Millisecond variants win over ``Retry-After``: OpenAI sends ``retry-after-ms``, Azure ``x-ms-retry-after-ms``.
_MS_HEADERS = ("retry-after-ms", "x-ms-retry-after-ms")


def parse_retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait, or ``None`` when absent or unreadable (negative, NaN, infinite, garbage).

    ``Retry-After`` may be delay-seconds or an HTTP date (RFC 9110 §10.2.3); a date in the past means 0.
    """
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    for name in _MS_HEADERS:
        ms = _seconds(lower.get(name))
        if ms is not None:
            return ms / 1000.0
    raw = lower.get("retry-after")
    if not raw:
        return None
    seconds = _seconds(raw)
    if seconds is not None or _is_number(raw):
        return seconds
    import email.utils  # only the rare HTTP-date form needs it (5-40 ms to import)

    try:
        when = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _is_number(raw: str) -> bool:
    try:
        float(raw)
    except ValueError:
        return False
    return True


def _seconds(raw: str | None) -> float | None:
    """A finite, non-negative number, else None."""
    if not raw:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
