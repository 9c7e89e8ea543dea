"""Chaos soak (issue 22): a storm of predictions against a flaky provider while Redis dies and hangs.

Run: ``python benchmarks/soak.py --duration 600`` (needs the ``redis-server`` binary and the
``hotcrm-ai-plugins`` distribution for the Redis cache backend). Everything stays on loopback: the
script starts its own ``redis-server`` on a free port and stops it at the end.

The provider is a plugin registered through the real hooks (``soak-flaky``): a small logistic model
that fails ``--error-rate`` of *attempts* with what an HTTP provider raises after its SDK mapped the
wire error: a timeout (after waiting ``--timeout-ms``), a 503, or a 429 with ``Retry-After``. An HTTP
stand-in driven by an SDK would spend the run measuring the stand-in and the SDK (each provider's
error mapping has its own tests against its stand-in); the service's retries, breaker, fallback,
cache and monitor, which this soak is about, run unchanged. Answers depend on the model *and* the
tenant, so a wrong value and a cross-tenant cache hit are told apart.

``--threads`` workers send single predictions and batches (16 rows) for two models: ``soak-primary``
(fallback ``soak-fallback`` on a steady provider) and ``soak-nofb`` (no fallback; stale answers
allowed, else ``PredictionError``). A chaos thread alternately kills (SIGKILL, then restart) and
pauses (SIGSTOP for ``--pause-s``) the Redis server every ``--chaos-every`` seconds and times how
long the cache takes to notice (failover) and to use Redis again (rejoin).

Printed at the end (and written as JSON with ``--json PATH``): calls and rows, degraded answers by
reason, exceptions by type, violations (unmarked degraded answers, wrong values, cross-tenant hits,
untyped exceptions, monitor count mismatches: events a counting sink received vs the events the
answers imply), breaker open time, failover and rejoin times, RSS at intervals and its growth per
hour after warm-up (least-squares slope). The exit status is 1 when any violation was seen.

Every ``--rss-every`` seconds one line says where the memory is: RSS, pymalloc's arenas (held/used),
glibc's ``mallinfo2`` (heap, mmapped blocks, in use, free) and the size of every bounded structure
(fallback cache, event rings, pending outcomes, single flight, Redis connections; breaker windows
and the prediction-log queue in the JSON). Warm-up is over when every event ring, the pending-outcome
map and the breaker windows are at their caps (docs/memory.md); ``--outage-at`` early fills the
fallback model's ring early.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import json
import logging
import math
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.cache import RedisServer  # the same redis-server controller the tests use

from hotcrm_ai import (
    AICloud,
    BaseMLProvider,
    FeatureSpec,
    HealthReport,
    ModelConfig,
    PredictionInput,
    PredictionOutput,
    ProviderConfig,
    hookimpl,
)
from hotcrm_ai.config import CacheSettings, MonitorSettings, PredictionSettings, Settings
from hotcrm_ai.descriptors import MonitorSinkSpec, ProviderSpec
from hotcrm_ai.errors import (
    HotCRMAIError,
    ProviderRateLimitError,
    ProviderServerError,
    ProviderTimeoutError,
)
from hotcrm_ai.types import PredictionEvent, PredictionResult

FEATURES = ("x1", "x2", "x3")
WEIGHTS = np.array([0.8, -0.5, 0.3])
TENANT_BIAS = {"acme": 0.0, "globex": 0.7, "initech": -0.9}
MODEL_BIAS = {"soak-primary": 0.0, "soak-nofb": 0.0, "soak-fallback": 0.35}
PRIMARY, NOFB, FALLBACK = "soak-primary", "soak-nofb", "soak-fallback"
BATCH = 16


def expected(model_id: str, tenant: str, row: Mapping[str, float]) -> float:
    z = sum(w * row[n] for w, n in zip(WEIGHTS, FEATURES, strict=True)) + MODEL_BIAS[model_id] + TENANT_BIAS[tenant]
    return 1.0 / (1.0 + math.exp(-z))


# -- the plugin: providers and a counting monitor sink -----------------------------------------------


class SoakProvider(BaseMLProvider):
    """A logistic model whose answer depends on the tenant; ``error_rate`` of attempts fail."""

    name = "soak"
    native_batch = True

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.error_rate = float(config.config.get("error_rate", 0.0))
        self.timeout_s = float(config.config.get("timeout_s", 0.02))
        self.model_bias = float(config.config.get("bias", 0.0))
        self._local = threading.local()
        self._lock = threading.Lock()
        self.attempts = 0
        self.faults: collections.Counter[str] = collections.Counter()
        self.down_until = 0.0  # monotonic time until which every attempt fails (an outage)

    def validate(self) -> bool:
        return True

    def _rng(self) -> random.Random:
        rng = getattr(self._local, "rng", None)
        if rng is None:
            rng = self._local.rng = random.Random(threading.get_ident())
        return rng

    def _maybe_fail(self) -> None:
        rng = self._rng()
        fault = None
        if time.monotonic() < self.down_until:
            fault = "outage"
        elif rng.random() < self.error_rate:
            fault = rng.choice(("timeout", "503", "429"))
        with self._lock:
            self.attempts += 1
            if fault:
                self.faults[fault] += 1
        if fault == "timeout":
            time.sleep(self.timeout_s)
            raise ProviderTimeoutError(f"request timed out after {self.timeout_s} s", provider=self.name)
        if fault in ("503", "outage"):
            raise ProviderServerError("503 Service Unavailable", provider=self.name, status=503)
        if fault == "429":
            raise ProviderRateLimitError(
                "429 Too Many Requests", provider=self.name, status=429, retry_after=rng.choice((0.01, 0.02, 0.05))
            )

    def _score(self, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        x = np.array([[i.features[n] for n in FEATURES] for i in inputs], dtype=float)
        bias = np.array([TENANT_BIAS[i.context["tenant"]] for i in inputs]) + self.model_bias
        p = 1.0 / (1.0 + np.exp(-(x @ WEIGHTS + bias)))
        return [PredictionOutput(prediction={"probability": float(v)}, confidence=abs(v - 0.5) * 200) for v in p]

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        self._maybe_fail()
        return self._score([inp])[0]

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        self._maybe_fail()
        return self._score(inputs) if inputs else []

    def health_check(self, model: ModelConfig | None = None) -> HealthReport:
        return HealthReport(healthy=True, latency_ms=0.0)


class CountingSink:
    """Counts every event per (model, outcome): the monitor's totals, exactly, for any run length."""

    name = "soak-count"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()

    def record(self, event: PredictionEvent) -> None:
        outcome = "cached" if event.success and event.cached else "success" if event.success else "failure"
        with self._lock:
            self.counts[(event.model_id, outcome)] += 1

    def close(self) -> None:
        pass


class SoakPlugin:
    __name__ = "soak"

    def __init__(self, error_rate: float, timeout_s: float) -> None:
        self.error_rate = error_rate
        self.timeout_s = timeout_s
        self.sink = CountingSink()

    @hookimpl
    def register_providers(self, register: Callable[[Any], None]) -> None:
        register(ProviderSpec(name="soak-flaky", factory=SoakProvider))
        register(ProviderSpec(name="soak-steady", factory=SoakProvider))

    @hookimpl
    def register_monitor_sinks(self, register: Callable[[Any], None]) -> None:
        register(MonitorSinkSpec(name=CountingSink.name, factory=lambda options: self.sink))

    @hookimpl
    def register_cache_backends(self, register: Callable[[Any], None]) -> None:
        from hotcrm_ai_plugins.redis_cache import backend_spec

        register(backend_spec())

    @hookimpl
    def register_models(self, register: Callable[[Any], None]) -> None:
        feats = tuple(FeatureSpec(name=n, dtype="number", minimum=-100, maximum=100) for n in FEATURES)
        flaky = ProviderConfig(
            provider="soak-flaky", config={"error_rate": self.error_rate, "timeout_s": self.timeout_s}
        )
        steady = ProviderConfig(provider="soak-steady", config={"bias": MODEL_BIAS[FALLBACK]})
        common: dict[str, Any] = {"type": "classification", "features": feats}
        register(
            ModelConfig(
                id=PRIMARY,
                name=PRIMARY,
                provider="soak-flaky",
                provider_config=flaky,
                fallback_model_id=FALLBACK,
                cache_ttl_s=30,
                **common,
            )
        )
        register(ModelConfig(id=NOFB, name=NOFB, provider="soak-flaky", provider_config=flaky, cache_ttl_s=2, **common))
        register(
            ModelConfig(
                id=FALLBACK, name=FALLBACK, provider="soak-steady", provider_config=steady, cache_ttl_s=0, **common
            )
        )


# -- the run -----------------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# -- where the memory is: RSS, the allocators, and every bounded structure -------------------------


# glibc's struct mallinfo2, in order (all size_t)
_MALLINFO2_FIELDS = (
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost",
)


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2_FIELDS]


def _libc() -> Any:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # not glibc >= 2.33: the allocator columns stay empty
        return None


LIBC = _libc()


def mallinfo_mb() -> dict[str, float]:
    """glibc's own view, summed over its arenas: ``arena`` (heap bytes from brk/mmap'd arenas),
    ``hblkhd`` (large blocks mmap'd one by one), ``uordblks`` (in use), ``fordblks`` (free but kept)."""
    if LIBC is None:
        return {}
    mi = LIBC.mallinfo2()
    return {k: round(getattr(mi, k) / 2**20, 2) for k in ("arena", "hblkhd", "uordblks", "fordblks")}


def pymalloc_mb() -> dict[str, float]:
    """pymalloc's arenas (mmap'd directly, so outside mallinfo): held vs used by live small objects.

    ``sys._debugmallocstats`` writes to the C stderr only, so fd 2 is pointed at a file for the call.
    It prints nothing while tracemalloc's hooks wrap the allocator: then the dict is empty.
    """
    with tempfile.TemporaryFile() as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("# arenas allocated current"):
            out["arenas_n"] = float(line.split("=")[1].replace(",", ""))
        elif line.startswith("# bytes in allocated blocks"):
            out["used"] = round(int(line.split("=")[1].replace(",", "")) / 2**20, 2)
        elif line.startswith("Total") and "held" not in out:
            out["held"] = round(int(line.split("=")[1].replace(",", "")) / 2**20, 2)
    return out


def structures(ai: AICloud) -> dict[str, Any]:
    """The sizes of every bounded structure, read directly (no sweep, no side effect)."""
    fallback = ai.cache._fallback
    with fallback._lock:
        cache = {"entries": len(fallback._data), "bytes": fallback._bytes}
    store = ai.monitor.store
    rings = {m: len(r.events) for m, r in getattr(store, "_rings", {}).items()}
    tracker = ai.monitor._outcomes
    breakers = {
        name: {"window": len(b._ring), "filled": min(b._count, len(b._ring))}
        for name, b in list(ai.providers._breakers.items())
    }
    writer = getattr(ai.predictions, "_writer", None)
    pool = getattr(getattr(ai.cache, "_backend", None), "_pool", None)
    return {
        "fallback_cache": cache,
        "monitor_events": rings,
        "pending_outcomes": len(tracker._order),
        "pending_in_shards": sum(len(s) for s in tracker._shards),
        "resolved_outcomes": len(tracker._resolved),
        "single_flight": ai.cache._flights.in_flight(),
        "breakers": breakers,
        "prediction_log_queue": writer.queued() if writer is not None else None,
        "redis_connections": None if pool is None else len(getattr(pool, "_connections", ())),
    }


def probe(ai: AICloud, elapsed: float) -> dict[str, Any]:
    traced = tracemalloc.get_traced_memory()[0] / 2**20 if tracemalloc.is_tracing() else None
    return {
        "t": round(elapsed, 1),
        "rss": round(rss_mb(), 2),
        "tracemalloc": None if traced is None else round(traced, 2),
        "python_blocks": sys.getallocatedblocks(),
        "pymalloc": pymalloc_mb(),
        "malloc": mallinfo_mb(),
        "structures": structures(ai),
    }


class Tally:
    """What the workers saw, and the monitor events their answers imply."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls = collections.Counter[str]()
        self.degraded = collections.Counter[str]()
        self.exceptions = collections.Counter[str]()
        self.violations = collections.Counter[str]()
        self.events = collections.Counter[tuple[str, str]]()
        self.examples: dict[str, str] = {}

    def merge(self, other: Tally) -> None:
        with self.lock:
            self.calls.update(other.calls)
            self.degraded.update(other.degraded)
            self.exceptions.update(other.exceptions)
            self.violations.update(other.violations)
            self.events.update(other.events)
            for k, v in other.examples.items():
                self.examples.setdefault(k, v)

    def violation(self, kind: str, detail: str) -> None:
        self.violations[kind] += 1
        self.examples.setdefault(kind, detail[:300])


def cause_of(reason: str) -> str:
    start = reason.find(" failed (")
    return reason[start + 9 :].split(":", 1)[0].split(")", 1)[0] if start >= 0 else "?"


def check(t: Tally, requested: str, tenant: str, row: Mapping[str, float], r: PredictionResult) -> None:
    """One answer: honest marking, the right value for its model and tenant, the events it implies."""
    if not r.ok:
        exc = r.exception
        t.exceptions[type(exc).__name__ if exc else (r.error.type if r.error else "?")] += 1
        if exc is not None and not isinstance(exc, HotCRMAIError):
            t.violation("untyped exception", repr(exc))
        t.events[(requested, "failure")] += 1
        return
    if r.model_id != requested and not r.degraded:
        t.violation("unmarked degraded answer", f"{requested} answered by {r.model_id} without degraded")
    if r.degraded and not r.degraded_reason:
        t.violation("unmarked degraded answer", f"{requested}: degraded without a reason")
    value = r.prediction.get("probability") if isinstance(r.prediction, Mapping) else None
    want = expected(r.model_id, tenant, row) if r.model_id in MODEL_BIAS else None
    if want is None or value is None or abs(value - want) > 1e-9:
        others = [o for o in TENANT_BIAS if o != tenant and r.model_id in MODEL_BIAS]
        if value is not None and any(abs(value - expected(r.model_id, o, row)) <= 1e-9 for o in others):
            t.violation("cross-tenant hit", f"{tenant} got another tenant's answer from {r.model_id}")
        else:
            t.violation("wrong value", f"{requested}/{tenant}: {value!r} != {want!r} ({r.model_id})")
    if r.degraded:
        reason = r.degraded_reason or ""
        how = "fallback" if "served by fallback model" in reason else "stale" if "cached answer" in reason else "?"
        t.degraded[f"{how} after {cause_of(reason)}"] += 1
        t.events[(requested, "failure")] += 1
        if how == "fallback":
            t.events[(r.model_id, "success")] += 1
    else:
        t.events[(r.model_id, "cached" if r.cached else "success")] += 1


def worker(ai: AICloud, rows: Sequence[dict[str, float]], seed: int, stop: threading.Event, out: Tally) -> None:
    rng = random.Random(seed)
    t = Tally()
    tenants = list(TENANT_BIAS)
    try:
        while not stop.is_set():
            model = PRIMARY if rng.random() < 0.7 else NOFB
            tenant = rng.choice(tenants)
            ctx = {"tenant": tenant}
            if rng.random() < 0.8:
                row = rows[rng.randrange(len(rows))]
                t.calls["predict"] += 1
                try:
                    r = ai.predict(model, row, context=ctx)
                except Exception as exc:
                    t.exceptions[type(exc).__name__] += 1
                    if not isinstance(exc, HotCRMAIError):
                        t.violation("untyped exception", repr(exc))
                    t.events[(model, "failure")] += 1
                    continue
                check(t, model, tenant, row, r)
            else:
                batch = [rows[rng.randrange(len(rows))] for _ in range(BATCH)]
                t.calls["batch"] += 1
                try:
                    results = ai.batch_predict(model, batch, context=ctx)
                except Exception as exc:  # a batch call itself must not raise for provider trouble
                    t.violation(
                        "untyped exception" if not isinstance(exc, HotCRMAIError) else "batch raised", repr(exc)
                    )
                    continue
                t.calls["batch rows"] += len(results)
                if len(results) != len(batch):
                    t.violation("wrong value", f"batch of {len(batch)} gave {len(results)} results")
                for row, r in zip(batch, results, strict=False):
                    check(t, model, tenant, row, r)
    finally:
        out.merge(t)


def chaos(
    redis: RedisServer,
    ai: AICloud,
    every_s: float,
    pause_s: float,
    stop: threading.Event,
    deadline: float,
    log: list[dict[str, Any]],
) -> None:
    """Alternately kill and pause Redis; time the failover (cache degraded) and the rejoin."""

    def wait_for(degraded: bool, limit_s: float) -> float | None:
        start = time.perf_counter()
        while time.perf_counter() - start < limit_s and not stop.is_set():
            if ai.cache.health()["degraded"] is degraded:
                return time.perf_counter() - start
            time.sleep(0.001)
        return None

    n = 0
    while not stop.wait(every_s) and time.monotonic() + every_s < deadline:
        kind = "kill" if n % 3 != 2 else "pause"
        n += 1
        entry: dict[str, Any] = {"kind": kind}
        if kind == "kill":
            redis.kill()
        else:
            redis.pause()
        entry["failover_s"] = wait_for(True, 10)
        time.sleep(pause_s if kind == "pause" else 1.0)
        entry["fallback_entries"] = len(ai.cache._fallback._data)  # its peak: emptied on rejoin
        if kind == "kill":
            redis.start()
        else:
            redis.resume()
        entry["rejoin_s"] = wait_for(False, 30)
        log.append(entry)


def buffers_full(sink: CountingSink, monitor: MonitorSettings) -> bool:
    """The bounded buffers are full: the busy models' event rings and the pending-outcome map (the
    fallback model serves too rarely to fill its ring in a short run)."""
    with sink._lock:
        counts = dict(sink.counts)
    per_model = collections.Counter[str]()
    successes = 0
    for (model, outcome), n in counts.items():
        per_model[model] += n
        successes += n if outcome != "failure" else 0
    return successes >= monitor.max_outcomes and all(
        per_model[m] >= monitor.max_events_per_model for m in (PRIMARY, NOFB)
    )


def outage(
    provider: SoakProvider, breaker: Any, at_s: float, length_s: float, stop: threading.Event, out: dict[str, Any]
) -> None:
    """Take the provider fully down for ``length_s``: time and count attempts until the breaker opens,
    then time how long after recovery it closes, against the reset wait at that moment."""
    if stop.wait(at_s) or length_s <= 0:
        return
    before_s, attempts0 = breaker.open_seconds(), provider.attempts
    trips0 = breaker.opened_count
    start = time.monotonic()
    provider.down_until = start + length_s
    while breaker.opened_count == trips0 and time.monotonic() < provider.down_until and not stop.is_set():
        time.sleep(0.001)
    if breaker.opened_count > trips0:
        out["opened_after_ms"] = round((time.monotonic() - start) * 1000, 1)
        out["opened_after_attempts"] = provider.attempts - attempts0
    while time.monotonic() < provider.down_until and not stop.is_set():
        time.sleep(0.01)
    recovered = time.monotonic()
    out["wait_at_recovery_s"] = breaker.wait_s
    while breaker.state != "closed" and not stop.is_set():
        time.sleep(0.001)
    if breaker.state == "closed":
        out["closed_after_recovery_ms"] = round((time.monotonic() - recovered) * 1000, 1)
    out["open_s"] = round(breaker.open_seconds() - before_s, 2)


def line(s: dict[str, Any]) -> str:
    """One interval on one line: RSS, then where it is (pymalloc, glibc), then what fills it."""
    st, mi, pm = s["structures"], s["malloc"], s["pymalloc"]
    rings = "/".join(str(n) for n in st["monitor_events"].values())
    traced = "" if s["tracemalloc"] is None else f" traced={s['tracemalloc']:.1f}"
    held = f"{pm['held']:.1f}/{pm['used']:.1f}" if "held" in pm else "n/a"
    return (
        f"  t={s['t']:6.0f} rss={s['rss']:6.1f}{traced} blocks={s['python_blocks'] / 1e3:.0f}k pymalloc={held}"
        f" malloc arena={mi.get('arena', 0):.1f} mmap={mi.get('hblkhd', 0):.1f}"
        f" used={mi.get('uordblks', 0):.1f} free={mi.get('fordblks', 0):.1f}"
        f" | fallback={st['fallback_cache']['entries']}/{st['fallback_cache']['bytes'] / 2**20:.1f}MB"
        f" rings={rings} pending={st['pending_outcomes']} flights={st['single_flight']}"
        f" conns={st['redis_connections']}"
    )


def warmed(s: dict[str, Any], settings: Settings) -> bool:
    """Warm-up is over when every bounded structure that fills under this load is at its cap: each
    model's event ring (the fallback model's fills slowly, a few events per second, until an outage
    sends it every call), the pending-outcome map, and each breaker's window. The fallback cache is not
    waited for: it fills only while Redis is down and is emptied when Redis answers again, so its peak
    depends on how long the outage lasts, not on how long the process has run."""
    st = s["structures"]
    cap = settings.monitor.max_events_per_model
    return (
        st["pending_outcomes"] >= settings.monitor.max_outcomes
        and all(st["monitor_events"].get(m, 0) >= cap for m in (PRIMARY, NOFB, FALLBACK))
        and all(b["filled"] >= b["window"] for b in st["breakers"].values())
    )


def growth_per_hour(samples: Sequence[tuple[float, float]], warmup_s: float) -> tuple[float, float] | None:
    """Least-squares slope of RSS after warm-up: (MB per hour, % per hour of the post-warm-up mean)."""
    pts = [(t, m) for t, m in samples if t >= warmup_s]
    if len(pts) < 3:
        return None
    t = np.array([p[0] for p in pts])
    m = np.array([p[1] for p in pts])
    slope = float(np.polyfit(t, m, 1)[0]) * 3600
    return slope, 100 * slope / float(m.mean())


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="hcai-soak-"))
    redis = RedisServer(workdir)
    redis.start()
    plugin = SoakPlugin(args.error_rate, args.timeout_ms / 1000)
    settings = Settings(
        cache=CacheSettings(backend="redis", namespace=f"soak-{uuid.uuid4().hex[:8]}", options={"url": redis.url}),
        monitor=MonitorSettings(sinks=("memory", CountingSink.name)),
        prediction=PredictionSettings(retries=args.retries, stale_if_error_s=300),
    )
    ai = AICloud(settings, plugins=[plugin], load_entrypoints=False)
    rng = np.random.default_rng(args.seed)
    rows = [dict(zip(FEATURES, map(float, v), strict=True)) for v in rng.normal(size=(args.rows, 3)).round(3)]
    stop = threading.Event()
    tally = Tally()
    chaos_log: list[dict[str, Any]] = []
    rss: list[tuple[float, float]] = []
    blocks: list[int] = []
    samples: list[dict[str, Any]] = []
    if args.tracemalloc:
        tracemalloc.start(1)
    warm_at: float | None = None
    threads = [
        threading.Thread(target=worker, args=(ai, rows, args.seed + i, stop, tally), daemon=True)
        for i in range(args.threads)
    ]
    outage_at = args.duration / 2 if args.outage_at is None else args.outage_at
    outage_log: dict[str, Any] = {"at_s": outage_at, "length_s": args.outage_s}
    flaky_provider, primary_breaker = ai.providers.get(ai.registry.get(PRIMARY))
    outage_thread = threading.Thread(
        target=outage,
        args=(flaky_provider, primary_breaker, outage_at, args.outage_s, stop, outage_log),
        daemon=True,
    )
    started = time.monotonic()
    outage_thread.start()
    chaos_thread = threading.Thread(
        target=chaos,
        args=(redis, ai, args.chaos_every, args.pause_s, stop, started + args.duration, chaos_log),
        daemon=True,
    )
    try:
        for th in threads:
            th.start()
        chaos_thread.start()
        while (elapsed := time.monotonic() - started) < args.duration:
            sample = probe(ai, elapsed)
            samples.append(sample)
            rss.append((sample["t"], sample["rss"]))
            blocks.append(sample["python_blocks"])
            if warm_at is None and warmed(sample, settings):
                warm_at = elapsed
            if not args.quiet:
                print(line(sample) + ("  <- warm" if warm_at == elapsed else ""), file=sys.stderr, flush=True)
            time.sleep(min(args.rss_every, max(0.0, args.duration - elapsed)))
        stop.set()
        for th in threads:
            th.join(60)
        chaos_thread.join(60)
        outage_thread.join(60)
        elapsed = time.monotonic() - started
        rss.append((round(elapsed, 1), round(rss_mb(), 1)))
        breaker = primary_breaker
        flaky: SoakProvider = flaky_provider  # type: ignore[assignment]
        got = plugin.sink.counts
        mismatched = {
            f"{m}/{o}": {"events": got[(m, o)], "answers imply": tally.events[(m, o)]}
            for m, o in sorted(set(got) | set(tally.events))
            if got[(m, o)] != tally.events[(m, o)]
        }
        if mismatched:
            tally.violation("monitor count mismatch", json.dumps(mismatched)[:300])
            tally.violations["monitor count mismatch"] = sum(
                abs(v["events"] - v["answers imply"]) for v in mismatched.values()
            )
        warmup = args.warmup if args.warmup is not None else warm_at
        growth = growth_per_hour(rss, warmup) if warmup is not None else None
        late = growth_per_hour(rss, elapsed / 2)
        report = {
            "duration_s": round(elapsed, 1),
            "threads": args.threads,
            "error_rate_of_attempts": args.error_rate,
            "retries": args.retries,
            "calls": dict(tally.calls),
            "provider_attempts": flaky.attempts,
            "provider_faults": dict(flaky.faults),
            "degraded_by_reason": dict(tally.degraded.most_common()),
            "exceptions_by_type": dict(tally.exceptions.most_common()),
            "violations": {
                k: tally.violations.get(k, 0)
                for k in (
                    "unmarked degraded answer",
                    "wrong value",
                    "cross-tenant hit",
                    "untyped exception",
                    "batch raised",
                    "monitor count mismatch",
                )
            },
            "violation_examples": tally.examples,
            "monitor_events": sum(got.values()),
            "monitor_mismatches": mismatched,
            "breaker": {
                "open_s": round(breaker.open_seconds(), 2),
                "open_fraction": round(breaker.open_seconds() / elapsed, 4),
                "open_fraction_outside_outage": round(
                    (breaker.open_seconds() - outage_log.get("open_s", 0.0)) / max(1e-9, elapsed - args.outage_s), 4
                ),
                "trips": breaker.opened_count,
                "last_trip": breaker.last_trip,
                "outage": outage_log,
            },
            "redis_chaos": chaos_log,
            "rss_mb": rss,
            "rss_warmup_s": None if warmup is None else round(warmup, 1),
            "buffers_full_at_s": None if warm_at is None else round(warm_at, 1),
            "at_warm_up": next((line(x) for x in samples if warm_at is not None and x["t"] >= round(warm_at, 1)), None),
            "at_end": line(samples[-1]) if samples else None,
            "python_blocks": blocks,
            "samples": samples,
            "rss_growth_mb_per_h": round(growth[0], 2) if growth else None,
            "rss_growth_pct_per_h": round(growth[1], 2) if growth else None,
            "rss_growth_second_half_mb_per_h": round(late[0], 2) if late else None,
            "rss_growth_second_half_pct_per_h": round(late[1], 2) if late else None,
        }
        return report
    finally:
        stop.set()
        ai.close()
        redis.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def show(r: dict[str, Any]) -> None:
    def ms(v: float | None) -> str:
        return "never" if v is None else f"{v * 1000:.0f} ms"

    print(
        f"soak: {r['duration_s']} s, {r['threads']} threads, {r['error_rate_of_attempts']:.0%} of attempts fail, "
        f"retries {r['retries']}"
    )
    c = r["calls"]
    print(
        f"calls: {c.get('predict', 0):,} predictions, {c.get('batch', 0):,} batches ({c.get('batch rows', 0):,} rows); "
        f"provider attempts {r['provider_attempts']:,}, faults {r['provider_faults']}"
    )
    print("degraded by reason:", json.dumps(r["degraded_by_reason"]))
    print("exceptions by type:", json.dumps(r["exceptions_by_type"]))
    print("violations:", json.dumps(r["violations"]), "(monitor events:", f"{r['monitor_events']:,})")
    for kind, example in r["violation_examples"].items():
        print(f"  e.g. {kind}: {example}")
    b = r["breaker"]
    print(
        f"breaker: open {b['open_s']} s ({b['open_fraction']:.2%} of the run, "
        f"{b['open_fraction_outside_outage']:.2%} outside the outage), {b['trips']} trips"
        + (f", last: {b['last_trip']}" if b["last_trip"] else "")
    )
    o = b["outage"]
    if o.get("length_s"):
        print(
            f"outage of {o['length_s']:.0f} s at {o['at_s']:.0f} s: opened after {o.get('opened_after_attempts', 'never')} "
            f"attempts ({o.get('opened_after_ms', '-')} ms); closed {o.get('closed_after_recovery_ms', 'never')} ms "
            f"after recovery (reset wait then {o.get('wait_at_recovery_s', '-')} s)"
        )
    for e in r["redis_chaos"]:
        print(
            f"redis {e['kind']:5}: failover {ms(e['failover_s'])}, rejoin {ms(e['rejoin_s'])}, "
            f"fallback cache then {e.get('fallback_entries', '?')} entries"
        )
    samples = r["rss_mb"]
    step = max(1, len(samples) // 12)
    print("rss MB:", ", ".join(f"{t:.0f}s={m:.0f}" for t, m in samples[::step] + samples[-1:]))
    full = r["buffers_full_at_s"]
    print(
        "warm-up (every event ring, the pending-outcome map and the breaker windows at their caps): "
        + ("not reached" if full is None else f"over at {full:.0f} s")
    )
    if r["at_warm_up"]:
        print("  then:", r["at_warm_up"].strip())
    if r["at_end"]:
        print("  end: ", r["at_end"].strip())
    if r["rss_growth_mb_per_h"] is not None:
        print(
            f"rss growth after {r['rss_warmup_s']:.0f} s warm-up: {r['rss_growth_mb_per_h']:+.1f} MB/h "
            f"({r['rss_growth_pct_per_h']:+.2f} %/h; goal < 2 %/h)"
        )
    if r["rss_growth_second_half_mb_per_h"] is not None:
        print(
            f"rss growth over the second half: {r['rss_growth_second_half_mb_per_h']:+.1f} MB/h "
            f"({r['rss_growth_second_half_pct_per_h']:+.2f} %/h)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=120.0, help="seconds of storm (default 120)")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--error-rate", type=float, default=0.3, help="fraction of provider attempts that fail")
    p.add_argument("--retries", type=int, default=2, help="[prediction] retries")
    p.add_argument("--timeout-ms", type=float, default=20.0, help="how long a timed-out attempt waits")
    p.add_argument("--rows", type=int, default=5000, help="distinct feature rows (repeats make cache hits)")
    p.add_argument("--chaos-every", type=float, default=20.0, help="seconds between Redis kills/pauses")
    p.add_argument("--pause-s", type=float, default=3.0, help="how long a paused Redis stays paused")
    p.add_argument(
        "--outage-s", type=float, default=10.0, help="a full provider outage this long at half time (0: none)"
    )
    p.add_argument("--outage-at", type=float, default=None, help="when the outage starts (default: half time)")
    p.add_argument("--rss-every", type=float, default=10.0, help="seconds between RSS samples")
    p.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds before RSS growth is judged (default: when every bounded structure is full)",
    )
    p.add_argument("--seed", type=int, default=22)
    p.add_argument(
        "--tracemalloc", action="store_true", help="trace Python allocations too (slower; its traces add to RSS)"
    )
    p.add_argument("--json", type=Path, help="also write the report here")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    logging.getLogger("hotcrm_ai").setLevel(logging.ERROR)  # thousands of expected warnings otherwise
    report = run(args)
    show(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if any(report["violations"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
