"""Circuit breaker: failure rate over a window of calls, streaks, bounded probes, backed-off waits.

Every transition runs on a deterministic clock; the goals of issue 22 (closed > 95% of the time at a
30% attempt error rate with retries, open within the minimum-call count at 100% errors, closed within
one probe interval after recovery) are measured on simulated traffic through the real retry loop.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from hotcrm_ai.config import PredictionSettings
from hotcrm_ai.errors import CircuitOpenError, ConfigError, ProviderRequestError, ProviderServerError
from hotcrm_ai.prediction.breaker import BreakerConfig, CircuitBreaker
from hotcrm_ai.prediction.resilience import RetryPolicy, call_with_retries


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def down() -> None:
    raise ProviderServerError("503", status=503)


def fail(breaker: CircuitBreaker, n: int = 1) -> None:
    for _ in range(n):
        with pytest.raises(ProviderServerError):
            breaker.call(down)


def ok(breaker: CircuitBreaker, n: int = 1) -> None:
    for _ in range(n):
        assert breaker.call(lambda: "up") == "up"


def fails_then_succeeds(n: int) -> Callable[[], str]:
    attempts = {"n": 0}

    def fn() -> str:
        attempts["n"] += 1
        if attempts["n"] <= n:
            raise ProviderServerError("503")
        return "ok"

    return fn


def rate_only(**kw: object) -> BreakerConfig:
    return BreakerConfig(failure_threshold=0, **kw)  # type: ignore[arg-type]


def test_opens_when_the_failure_rate_reaches_the_threshold_after_min_calls() -> None:
    b = CircuitBreaker("p", rate_only(failure_rate=50, window=10, min_calls=6), clock=Clock())
    fail(b, 5)
    assert b.state == "closed"  # 5 calls < min_calls: not judged yet
    fail(b)
    assert b.state == "open" and b.opened_count == 1 and "6 of the last 6 calls failed" in b.last_trip


def test_rate_below_the_threshold_stays_closed_and_old_outcomes_leave_the_window() -> None:
    b = CircuitBreaker("p", rate_only(failure_rate=50, window=10, min_calls=10), clock=Clock())
    for _ in range(2):  # 40% failures
        ok(b, 2)
        fail(b, 2)
        ok(b)
    assert b.state == "closed" and b.failure_rate() == pytest.approx(40.0)
    ok(b, 10)  # the failures slide out of the window
    assert b.failure_rate() == 0.0
    fail(b, 4)
    ok(b)
    fail(b)  # 5 of the last 10
    assert b.state == "open"


def test_consecutive_failures_catch_a_hard_down_provider_behind_a_window_of_successes() -> None:
    b = CircuitBreaker("p", BreakerConfig(failure_rate=50, window=100, min_calls=20, failure_threshold=5))
    ok(b, 100)
    fail(b, 4)
    ok(b)  # a success resets the streak
    fail(b, 4)
    assert b.state == "closed"
    fail(b)
    assert b.state == "open" and "5 consecutive failed calls" in b.last_trip


def test_a_call_whose_retries_succeed_is_one_success_and_a_failed_call_is_one_failure() -> None:
    clock = Clock()
    b = CircuitBreaker("p", BreakerConfig(failure_threshold=1, window=10, min_calls=1), clock=clock)
    for _ in range(50):
        flaky = fails_then_succeeds(2)
        assert call_with_retries(flaky, RetryPolicy(retries=2), breaker=b, sleep=clock.sleep) == ("ok", 3)
    assert b.state == "closed" and b.failure_rate() == 0.0  # 100 failed attempts, 0 failed calls
    b2 = CircuitBreaker("q", BreakerConfig(failure_threshold=2, window=10, min_calls=10), clock=clock)
    with pytest.raises(ProviderServerError):
        call_with_retries(down, RetryPolicy(retries=3), breaker=b2, sleep=clock.sleep)
    assert b2.state == "closed" and b2.failure_rate() == 100.0  # 4 attempts, one failed call


def test_client_errors_count_as_neither_success_nor_failure() -> None:
    b = CircuitBreaker("p", BreakerConfig(failure_threshold=1, window=4, min_calls=1))

    def bad() -> None:
        raise ProviderRequestError("400")

    for _ in range(10):
        with pytest.raises(ProviderRequestError):
            call_with_retries(bad, RetryPolicy(retries=2), breaker=b, sleep=lambda s: None)
    assert b.state == "closed" and b.failure_rate() == 0.0


def test_half_open_admits_a_bounded_number_of_probes_and_closes_when_all_succeed() -> None:
    clock = Clock()
    b = CircuitBreaker("p", BreakerConfig(failure_threshold=1, half_open_probes=2, reset_s=5), clock=clock)
    fail(b)
    with pytest.raises(CircuitOpenError, match=r"next probe in 5\.0 s"):
        b.before_call()
    clock.t = 5.0
    assert b.state == "half-open"
    first, second = b.before_call(), b.before_call()
    with pytest.raises(CircuitOpenError, match="2 probe call"):
        b.before_call()  # bounded: a third caller fails fast
    b.release(second)  # a probe that ended in a client error frees its slot
    third = b.before_call()
    b.success(first)
    assert b.state == "half-open"  # one of two probes succeeded
    b.success(third)
    assert b.state == "closed"


def test_the_wait_is_short_on_the_first_trip_and_backs_off_while_probes_fail() -> None:
    clock = Clock()
    cfg = BreakerConfig(failure_threshold=1, reset_s=2, reset_max_s=10, reset_multiplier=2)
    b = CircuitBreaker("p", cfg, clock=clock)
    fail(b)
    waits = []
    for _ in range(5):
        opened = clock.t
        while b.state == "open":
            clock.t += 0.5
        waits.append(clock.t - opened)
        fail(b)  # the probe fails
    assert waits == [2.0, 4.0, 8.0, 10.0, 10.0]
    while b.state == "open":
        clock.t += 0.5
    ok(b)  # recovery: closed, and the next incident starts with the short wait again
    assert b.state == "closed"
    fail(b)
    clock.t += 2.0
    assert b.state == "half-open"


def test_outcomes_of_calls_admitted_before_a_transition_are_not_counted_against_the_new_state() -> None:
    clock = Clock()
    b = CircuitBreaker("p", BreakerConfig(failure_threshold=1, reset_s=1), clock=clock)
    slow = b.before_call()  # admitted while closed
    fail(b)  # another call trips the circuit
    clock.t = 1.0
    probe = b.before_call()
    b.failure(slow)  # the slow call's failure belongs to the closed period: ignored
    assert b.state == "half-open"
    b.success(probe)
    assert b.state == "closed"


def test_open_seconds_measures_time_not_closed() -> None:
    clock = Clock()
    b = CircuitBreaker("p", BreakerConfig(failure_threshold=1, reset_s=3), clock=clock)
    clock.t = 10.0
    fail(b)
    clock.t = 14.0
    assert b.open_seconds() == pytest.approx(4.0)
    ok(b)
    clock.t = 100.0
    assert b.open_seconds() == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("breaker_min_calls", 200, "breaker_min_calls: expected at most breaker_window"),
        ("breaker_window", 0, "breaker_window: expected a number > 0"),
        ("breaker_failure_rate", 120.0, "breaker_failure_rate: expected a percentage"),
        ("breaker_reset_max_s", 1.0, "breaker_reset_max_s: expected at least breaker_reset_s"),
        ("breaker_failure_threshold", -1, "breaker_failure_threshold: expected a number >= 0"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_key(key: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        BreakerConfig.from_settings(PredictionSettings(**{key: value}))  # type: ignore[arg-type]


def test_settings_map_onto_the_breaker() -> None:
    s = PredictionSettings(breaker_failure_rate=25, breaker_window=40, breaker_min_calls=10, breaker_half_open_probes=3)
    cfg = BreakerConfig.from_settings(s)
    assert (cfg.failure_rate, cfg.window, cfg.min_calls, cfg.half_open_probes) == (25, 40, 10, 3)
    assert BreakerConfig.from_settings(PredictionSettings()) == BreakerConfig()


# -- the measured goals, on simulated traffic through the real retry loop -------------------------------


def simulate(error_rate: float, calls: int, *, retries: int, seed: int, clock: Clock, b: CircuitBreaker) -> int:
    """``calls`` calls, one every 5 ms, each attempt failing with ``error_rate``; returns calls attempted."""
    rng = random.Random(seed)
    policy = RetryPolicy(retries=retries, base_s=0.05, max_s=2.0)
    attempted = 0

    def attempt() -> str:
        clock.t += 0.002  # the attempt's own latency
        if rng.random() < error_rate:
            raise ProviderServerError("503", status=503)
        return "ok"

    for _ in range(calls):
        clock.t += 0.005
        try:
            call_with_retries(attempt, policy, breaker=b, rng=rng, sleep=clock.sleep)
        except CircuitOpenError:
            continue
        except ProviderServerError:
            pass
        attempted += 1
    return attempted


def test_goal_closed_over_95_percent_of_the_time_at_30_percent_attempt_errors_with_retries() -> None:
    clock = Clock()
    b = CircuitBreaker("p", BreakerConfig(), clock=clock)
    simulate(0.3, 50_000, retries=2, seed=22, clock=clock, b=b)
    assert clock.t > 300  # several minutes of simulated traffic
    assert b.open_seconds() / clock.t < 0.05


def test_goal_opens_within_the_minimum_call_count_at_100_percent_errors() -> None:
    cfg = BreakerConfig()
    for history in (0, 1_000):  # fresh, and after a long healthy run that fills the window
        clock = Clock()
        b = CircuitBreaker("p", cfg, clock=clock)
        simulate(0.0, history, retries=2, seed=1, clock=clock, b=b)
        attempted = simulate(1.0, 1_000, retries=2, seed=1, clock=clock, b=b)
        assert b.opened_count >= 1
        assert attempted - (b.opened_count - 1) <= cfg.min_calls  # calls before the first trip, then probes


def test_goal_closes_within_one_probe_interval_after_recovery() -> None:
    clock = Clock()
    b = CircuitBreaker("p", BreakerConfig(), clock=clock)
    simulate(1.0, 20_000, retries=2, seed=3, clock=clock, b=b)  # a long outage: the wait has backed off
    assert b.state in ("open", "half-open") and b.opened_count > 3
    interval = b._wait_s
    recovered_at = clock.t
    rng = random.Random(4)
    while b.state != "closed":
        clock.t += 0.005
        try:
            call_with_retries(lambda: "ok", RetryPolicy(), breaker=b, rng=rng, sleep=clock.sleep)
        except CircuitOpenError:
            pass
    assert clock.t - recovered_at <= interval + 0.005
