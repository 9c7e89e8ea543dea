"""Retries with exponential backoff and full jitter, reporting one outcome per call to the breaker.

Full jitter (sleep uniform(0, min(cap, base * 2**attempt))) is AWS's recommendation for spreading
retry storms; a server's ``Retry-After`` wins when it asks for longer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import attrs

from hotcrm_ai.errors import CircuitOpenError, ProviderError
from hotcrm_ai.prediction.breaker import CircuitBreaker, counts_against_provider

__all__ = [
    "CircuitBreaker",
    "RetryPolicy",
    "call_with_retries",
    "counts_against_provider",
    "is_retryable",
    "retry_after_failure",
]

T = TypeVar("T")

MAX_RETRY_AFTER_S = 60.0


@attrs.frozen
class RetryPolicy:
    retries: int = 2
    base_s: float = 0.05
    max_s: float = 2.0

    def delay(self, attempt: int, error: BaseException, rng: random.Random) -> float:
        backoff = rng.uniform(0, min(self.max_s, self.base_s * 2**attempt))
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and retry_after > 0:
            return max(backoff, min(float(retry_after), MAX_RETRY_AFTER_S))
        return backoff


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, ProviderError) and not isinstance(error, CircuitOpenError) and error.retryable


def call_with_retries(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    breaker: CircuitBreaker | None = None,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, int]:
    """Run ``fn`` with retries on retryable errors; return (result, attempts).

    The breaker admits the call once and hears one outcome for it: a call whose retries end in a
    success is a success, however many attempts failed on the way.
    """
    ticket = breaker.before_call() if breaker is not None else None
    try:
        result = fn()
    except BaseException as exc:
        return retry_after_failure(fn, policy, exc, breaker=breaker, ticket=ticket, rng=rng, sleep=sleep)
    if breaker is not None:
        breaker.success(ticket)
    return result, 1


def retry_after_failure(
    fn: Callable[[], T],
    policy: RetryPolicy,
    error: BaseException,
    *,
    breaker: CircuitBreaker | None,
    ticket: int | None,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, int]:
    """``call_with_retries`` from its first attempt's ``error`` on: the call was admitted with
    ``ticket`` (``breaker.before_call()``) and ``fn()`` raised once. A caller that makes the first
    attempt inline (a prediction's provider call, with no closure or frame for the common success)
    hands its failure here; the breaker still hears one outcome for the whole call."""
    attempt = 0
    try:
        while True:
            if attempt >= policy.retries or not is_retryable(error):
                raise error
            sleep(policy.delay(attempt, error, rng or random.Random()))
            attempt += 1
            try:
                result = fn()
                break
            except BaseException as exc:
                error = exc
    except BaseException as exc:
        if breaker is not None:
            breaker.report(ticket, exc)
        raise
    if breaker is not None:
        breaker.success(ticket)
    return result, attempt + 1
