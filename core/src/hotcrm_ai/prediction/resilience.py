"""Retries with exponential backoff and full jitter, and a circuit breaker per provider instance.

Full jitter (sleep uniform(0, min(cap, base * 2**attempt))) is AWS's recommendation for spreading
retry storms; a server's ``Retry-After`` wins when it asks for longer.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import attrs

from hotcrm_ai.errors import CircuitOpenError, ProviderError, ProviderRequestError, ValidationError

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


def counts_against_provider(error: BaseException) -> bool:
    """Client mistakes (bad input) say nothing about the provider's health; everything else does."""
    return not isinstance(error, (ValidationError, ProviderRequestError, CircuitOpenError))


class CircuitBreaker:
    """closed -> (N consecutive failures) -> open -> (cool-down) -> half-open: one probe -> closed/open."""

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.failure_threshold = max(1, failure_threshold)
        self.reset_s = reset_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self.opened_count = 0

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_s:
            return "half-open"
        return "open"

    def before_call(self) -> None:
        with self._lock:
            state = self._state()
            if state == "closed":
                return
            if state == "half-open" and not self._probing:
                self._probing = True
                return
            remaining = max(0.0, self.reset_s - (self._clock() - (self._opened_at or 0.0)))
            raise CircuitOpenError(
                f"circuit for provider {self.name} is open after {self._failures} consecutive failures; "
                f"next probe in {remaining:.1f} s",
                provider=self.name,
                retryable=False,
            )

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probing = False

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._probing or self._failures >= self.failure_threshold:
                if self._opened_at is None or self._probing:
                    self.opened_count += 1
                self._opened_at = self._clock()
            self._probing = False

    def release(self) -> None:
        """A call ended without telling us about the provider (client error): free the probe slot."""
        with self._lock:
            self._probing = False

    def call(self, fn: Callable[[], T]) -> T:
        self.before_call()
        try:
            result = fn()
        except BaseException as exc:
            if counts_against_provider(exc):
                self.failure()
            else:
                self.release()
            raise
        self.success()
        return result


def call_with_retries(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    breaker: CircuitBreaker | None = None,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, int]:
    """Run ``fn`` (through the breaker) with retries on retryable errors; return (result, attempts)."""
    rng = rng or random.Random()
    attempt = 0
    while True:
        try:
            result = breaker.call(fn) if breaker is not None else fn()
            return result, attempt + 1
        except BaseException as exc:
            if attempt >= policy.retries or not is_retryable(exc):
                raise
            sleep(policy.delay(attempt, exc, rng))
            attempt += 1
