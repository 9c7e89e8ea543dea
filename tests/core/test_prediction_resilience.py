"""Retry policy (full jitter, Retry-After) and circuit breaker state machine."""

from __future__ import annotations

import random

import pytest

from hotcrm_ai.errors import (
    CircuitOpenError,
    ProviderAuthError,
    ProviderRateLimitError,
    ProviderRequestError,
    ProviderServerError,
)
from hotcrm_ai.prediction.resilience import CircuitBreaker, RetryPolicy, call_with_retries


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def failing(n: int, error: Exception):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def fn() -> str:
        calls["n"] += 1
        if calls["n"] <= n:
            raise error
        return "ok"

    return fn, calls


def test_retries_only_retryable_errors() -> None:
    sleeps: list[float] = []
    fn, calls = failing(2, ProviderServerError("503"))
    assert call_with_retries(fn, RetryPolicy(retries=2), sleep=sleeps.append) == ("ok", 3)
    assert len(sleeps) == 2
    fn, calls = failing(1, ProviderAuthError("bad key"))
    with pytest.raises(ProviderAuthError):
        call_with_retries(fn, RetryPolicy(retries=5), sleep=sleeps.append)
    assert calls["n"] == 1


def test_gives_up_after_the_budget() -> None:
    fn, calls = failing(10, ProviderServerError("503"))
    with pytest.raises(ProviderServerError):
        call_with_retries(fn, RetryPolicy(retries=3), sleep=lambda s: None)
    assert calls["n"] == 4


def test_full_jitter_bounds_and_retry_after() -> None:
    policy = RetryPolicy(retries=5, base_s=0.1, max_s=1.0)
    rng = random.Random(1)
    delays = [policy.delay(a, ProviderServerError("x"), rng) for a in range(6) for _ in range(200)]
    assert all(0 <= d <= 1.0 for d in delays) and max(delays) > 0.5
    assert policy.delay(0, ProviderRateLimitError("429", retry_after=3.0), rng) == 3.0


def test_breaker_opens_and_recovers_through_half_open() -> None:
    clock = Clock()
    breaker = CircuitBreaker("p", failure_threshold=3, reset_s=10, clock=clock)

    def boom() -> None:
        raise ProviderServerError("down")

    for _ in range(3):
        with pytest.raises(ProviderServerError):
            breaker.call(boom)
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError, match="circuit for provider p is open"):
        breaker.call(lambda: "never called")
    clock.t = 10.0
    assert breaker.state == "half-open"
    with pytest.raises(ProviderServerError):  # the probe fails: open again
        breaker.call(boom)
    assert breaker.state == "open"
    clock.t = 29.0  # a failed probe doubles the wait: 10 s -> 20 s
    assert breaker.state == "open"
    clock.t = 30.0
    assert breaker.call(lambda: "up") == "up"
    assert breaker.state == "closed" and breaker.opened_count == 2


def test_client_errors_do_not_trip_the_breaker() -> None:
    breaker = CircuitBreaker("p", failure_threshold=1)

    def bad_request() -> None:
        raise ProviderRequestError("400")

    for _ in range(5):
        with pytest.raises(ProviderRequestError):
            breaker.call(bad_request)
    assert breaker.state == "closed"


def test_open_circuit_is_not_retried() -> None:
    breaker = CircuitBreaker("p", failure_threshold=1)
    with pytest.raises(ProviderServerError):
        breaker.call(lambda: (_ for _ in ()).throw(ProviderServerError("x")))
    sleeps: list[float] = []
    with pytest.raises(CircuitOpenError):
        call_with_retries(lambda: "x", RetryPolicy(retries=3), breaker=breaker, sleep=sleeps.append)
    assert sleeps == []
