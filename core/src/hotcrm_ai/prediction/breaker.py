"""A circuit breaker per provider instance that trips on the failure *rate* of calls.

The model is resilience4j's: outcomes of calls (not attempts: the retry loop reports one outcome per
call) go into a count-based sliding window; once the window holds ``min_calls`` outcomes and the
failure rate reaches ``failure_rate`` percent, the circuit opens. ``failure_threshold`` consecutive failures (Envoy's
consecutive-5xx ejection) is kept as a second trigger that catches a hard-down provider even when the
window is full of older successes. While open, calls fail fast with ``CircuitOpenError``; after the
reset wait the circuit is half-open and admits ``half_open_probes`` probe calls: when they all succeed
it closes, when one fails it opens again with the wait multiplied (capped at ``reset_max_s``). A close
resets the wait to ``reset_s``, so the first trip of an incident is short.

Each outcome carries the ticket ``before_call`` returned: an outcome of a call admitted in an earlier
state (a slow call that started before the circuit opened) is not counted against the current one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from hotcrm_ai.errors import CircuitOpenError, ConfigError, ProviderRequestError, ValidationError

if TYPE_CHECKING:
    from hotcrm_ai.config import PredictionSettings

T = TypeVar("T")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


def counts_against_provider(error: BaseException) -> bool:
    """Client mistakes (bad input) say nothing about the provider's health; everything else does."""
    return not isinstance(error, (ValidationError, ProviderRequestError, CircuitOpenError))


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ConfigError(f"[prediction] breaker_{attribute.name}: expected a number > 0, got {value!r}")


def _not_negative(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ConfigError(f"[prediction] breaker_{attribute.name}: expected a number >= 0, got {value!r}")


@attrs.frozen
class BreakerConfig:
    """Breaker settings; ``[prediction] breaker_*`` keys map onto these (docs/resilience.md has the why)."""

    failure_rate: float = attrs.field(default=50.0, validator=_not_negative)  # percent; 0 disables
    window: int = attrs.field(default=100, validator=_positive)  # calls in the sliding window
    min_calls: int = attrs.field(default=20, validator=_positive)  # before the rate is judged
    failure_threshold: int = attrs.field(default=20, validator=_not_negative)  # consecutive; 0 disables
    half_open_probes: int = attrs.field(default=1, validator=_positive)
    reset_s: float = attrs.field(default=2.0, validator=_positive)  # wait after the first trip
    reset_max_s: float = attrs.field(default=60.0, validator=_positive)
    reset_multiplier: float = attrs.field(default=2.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.min_calls > self.window:
            raise ConfigError(
                f"[prediction] breaker_min_calls: expected at most breaker_window ({self.window}), got {self.min_calls}"
            )
        if self.failure_rate > 100:
            raise ConfigError(
                f"[prediction] breaker_failure_rate: expected a percentage 0-100, got {self.failure_rate}"
            )
        if self.reset_max_s < self.reset_s:
            raise ConfigError(
                f"[prediction] breaker_reset_max_s: expected at least breaker_reset_s ({self.reset_s}), "
                f"got {self.reset_max_s}"
            )

    @classmethod
    def from_settings(cls, s: PredictionSettings) -> BreakerConfig:
        return cls(
            failure_rate=s.breaker_failure_rate,
            window=s.breaker_window,
            min_calls=s.breaker_min_calls,
            failure_threshold=s.breaker_failure_threshold,
            half_open_probes=s.breaker_half_open_probes,
            reset_s=s.breaker_reset_s,
            reset_max_s=s.breaker_reset_max_s,
            reset_multiplier=s.breaker_reset_multiplier,
        )


class CircuitBreaker:
    """closed -(rate or streak)-> open -(wait)-> half-open -(probes ok)-> closed, -(probe fails)-> open."""

    def __init__(
        self,
        name: str,
        config: BreakerConfig | None = None,
        *,
        failure_threshold: int | None = None,
        reset_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        config = config or BreakerConfig()
        if failure_threshold is not None:
            config = attrs.evolve(config, failure_threshold=max(0, failure_threshold))
        if reset_s is not None:
            config = attrs.evolve(config, reset_s=reset_s, reset_max_s=max(reset_s, config.reset_max_s))
        self.name = name
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        # the window: a fixed ring of 0/1 outcomes, allocated once (no churn under load)
        self._ring = bytearray(config.window)
        self._window = config.window
        self._pos = 0
        self._count = 0
        self._failed = 0
        self._streak = 0
        self._state = CLOSED
        self._epoch = 0  # bumped on every transition; tickets from older epochs are ignored
        self._opened_at = 0.0
        self._wait_s = config.reset_s
        self._probes_admitted = 0
        self._probes_ok = 0
        self._not_closed_since: float | None = None
        self._not_closed_total = 0.0
        self.opened_count = 0
        self.last_trip = ""

    # -- state ---------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        with self._lock:
            return self._current()

    def _current(self) -> str:
        if self._state == OPEN and self._clock() - self._opened_at >= self._wait_s:
            self._transition(HALF_OPEN)
        return self._state

    def _transition(self, state: str) -> None:
        now = self._clock()
        if state == CLOSED and self._not_closed_since is not None:
            self._not_closed_total += now - self._not_closed_since
            self._not_closed_since = None
        elif state != CLOSED and self._not_closed_since is None:
            self._not_closed_since = now
        if state == OPEN:
            self._opened_at = now
        if state in (OPEN, CLOSED):
            self._pos = self._count = self._failed = self._streak = 0
        self._probes_admitted = self._probes_ok = 0
        self._state = state
        self._epoch += 1

    def _trip(self, reason: str) -> None:
        self.opened_count += 1
        self.last_trip = reason
        self._transition(OPEN)

    def open_seconds(self) -> float:
        """Total time spent open or half-open (calls fail fast or wait for probes) since creation."""
        with self._lock:
            self._current()
            extra = self._clock() - self._not_closed_since if self._not_closed_since is not None else 0.0
            return self._not_closed_total + extra

    @property
    def wait_s(self) -> float:
        """The current reset wait: ``reset_s`` after a first trip, longer while probes keep failing."""
        with self._lock:
            return self._wait_s

    def failure_rate(self) -> float:
        """Failure percentage over the current window (0 while empty)."""
        with self._lock:
            return 100.0 * self._failed / self._count if self._count else 0.0

    # -- the protocol the retry loop uses --------------------------------------------------------

    def before_call(self) -> int:
        """Admit a call or raise ``CircuitOpenError``; returns the ticket to report the outcome with."""
        epoch = self._epoch
        if self._state == CLOSED and self._epoch == epoch:
            # every call while healthy, without the lock: the circuit was closed in this epoch when
            # the state was read (a transition writes the state, then bumps the epoch); one that
            # happens right after is the same race as a call admitted just before it, and the
            # outcome of such a call is ignored (its ticket is of an older epoch)
            return epoch
        with self._lock:
            state = self._current()
            if state == CLOSED:
                return self._epoch
            if state == HALF_OPEN and self._probes_admitted < self.config.half_open_probes:
                self._probes_admitted += 1
                return self._epoch
            if state == HALF_OPEN:
                detail = f"{self.config.half_open_probes} probe call(s) in flight"
            else:
                remaining = max(0.0, self._wait_s - (self._clock() - self._opened_at))
                detail = f"next probe in {remaining:.1f} s"
            raise CircuitOpenError(
                f"circuit for provider {self.name} is {state} ({self.last_trip}); {detail}",
                provider=self.name,
                retryable=False,
            )

    def success(self, ticket: int | None = None) -> None:
        lock = self._lock
        lock.acquire()  # not ``with``: every call ends here, and its method lookups cost more
        try:
            if self._state == CLOSED:  # every call while healthy (only an open state moves by itself)
                if ticket is None or ticket == self._epoch:
                    self._streak = 0
                    pos = self._pos  # ``_record(0)``, written out (every successful call)
                    if self._count == self._window:
                        self._failed -= self._ring[pos]
                    else:
                        self._count += 1
                    self._ring[pos] = 0
                    pos += 1
                    self._pos = pos if pos < self._window else 0
                return
            state = self._current()
            if ticket is not None and ticket != self._epoch:
                return
            if state == HALF_OPEN:
                self._probes_ok += 1
                if self._probes_ok >= self.config.half_open_probes:
                    self._wait_s = self.config.reset_s
                    self._transition(CLOSED)
            elif state == CLOSED:
                self._streak = 0
                self._record(0)
        finally:
            lock.release()

    def failure(self, ticket: int | None = None) -> None:
        with self._lock:
            state = self._current()
            if ticket is not None and ticket != self._epoch:
                return
            if state == HALF_OPEN:
                self._wait_s = min(self.config.reset_max_s, self._wait_s * self.config.reset_multiplier)
                self._trip("a probe call failed")
            elif state == CLOSED:
                self._streak += 1
                self._record(1)
                self._check()

    def release(self, ticket: int | None = None) -> None:
        """A call ended without telling us about the provider (client error): free its probe slot."""
        with self._lock:
            if self._current() == HALF_OPEN and (ticket is None or ticket == self._epoch):
                self._probes_admitted = max(0, self._probes_admitted - 1)

    def report(self, ticket: int | None, error: BaseException | None) -> None:
        """One outcome for one call: success, a failure of the provider, or a client error."""
        if error is None:
            self.success(ticket)
        elif counts_against_provider(error):
            self.failure(ticket)
        else:
            self.release(ticket)

    def _record(self, failed: int) -> None:
        size = self.config.window
        if self._count == size:
            self._failed -= self._ring[self._pos]
        else:
            self._count += 1
        self._ring[self._pos] = failed
        self._failed += failed
        self._pos = (self._pos + 1) % size

    def _check(self) -> None:
        c = self.config
        if c.failure_threshold and self._streak >= c.failure_threshold:
            self._trip(f"{self._streak} consecutive failed calls")
        elif c.failure_rate and self._count >= c.min_calls and self._failed * 100.0 >= c.failure_rate * self._count:
            self._trip(f"{self._failed} of the last {self._count} calls failed")

    def call(self, fn: Callable[[], T]) -> T:
        """Run one call (one attempt) through the breaker."""
        ticket = self.before_call()
        try:
            result = fn()
        except BaseException as exc:
            self.report(ticket, exc)
            raise
        self.success(ticket)
        return result
