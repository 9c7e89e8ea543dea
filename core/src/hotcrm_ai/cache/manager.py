"""The cache manager: keys, JSON values, hit/miss accounting, and survival when the backend fails.

Degradation lives here, not in each backend, so every backend plugin gets it for free: when the
configured backend raises (Redis down, timed out, refused), the manager counts the fault, serves from
an in-memory fallback, and lets exactly one caller probe the backend (``ping``) once
``retry_backend_after_s`` has passed; when the probe succeeds the backend serves again and the
fallback is emptied (what it holds may be older than what other instances wrote meanwhile). How long a
failing call can block is the backend's socket timeout: the manager never waits on it twice in a row.
Nothing here raises to the caller because of the cache: a fault is a miss (or a write skipped).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NamedTuple, TypeVar

from hotcrm_ai.cache.codec import DecodeError, decode, decode_all, encode
from hotcrm_ai.cache.keys import (
    KEY_VERSION,
    NO_TENANT,
    KeyedHash,
    canonical_key_tail,
    check_namespace,
    key_tail,
    tenant_component,
    text_digest,
)
from hotcrm_ai.cache.memory import MemoryBackend
from hotcrm_ai.cache.singleflight import SingleFlight
from hotcrm_ai.cache.stats import CacheStats, describe_error
from hotcrm_ai.config import CacheSettings
from hotcrm_ai.descriptors import CacheBackendSpec
from hotcrm_ai.errors import ConfigError, ValidationError
from hotcrm_ai.interfaces import CacheBackend

log = logging.getLogger("hotcrm_ai.cache")
T = TypeVar("T")
Source = Literal["cache", "computed", "shared"]


class Lookup(NamedTuple):
    """What ``get_or_compute`` returns: the value and where it came from.

    ``source`` is ``"cache"`` (stored entry), ``"computed"`` (this caller ran ``compute``) or
    ``"shared"`` (a concurrent caller with the same key ran it; this one waited for its value).
    A named tuple: every cache miss of a prediction builds one, and a tuple is built in C.
    """

    value: Any
    source: Source

    @property
    def cached(self) -> bool:
        return self.source != "computed"


_new_tuple = tuple.__new__  # ``_new_tuple(Lookup, (value, source))``: a Lookup without its Python-level __new__


def _ttl(ttl_s: Any) -> float | None:
    """A storable TTL in seconds, else None (not stored): NaN would never expire in memory and
    make Redis refuse the SET; a wrong type or an int beyond float range must not raise from ``set``."""
    if type(ttl_s) is float and 0 < ttl_s < math.inf:  # what the prediction service passes
        return ttl_s
    if isinstance(ttl_s, (str, bytes)):
        return None
    try:
        ttl = float(ttl_s)
    except (TypeError, ValueError, OverflowError):
        return None
    return ttl if 0 < ttl < math.inf else None


class CacheManager:
    """What the prediction service uses; ``AICloud`` builds it with :meth:`from_specs`."""

    def __init__(
        self,
        backend: CacheBackend | None,
        settings: CacheSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        rebuild: Callable[[], CacheBackend] | None = None,
    ) -> None:
        """``backend`` None with ``rebuild`` set: start degraded and build the backend on the next probe."""
        try:
            self._namespace = check_namespace(settings.namespace)
        except ValidationError as exc:
            raise ConfigError(f"[cache] {exc}") from None
        self._key_prefix = self._namespace + ":"
        from hotcrm_ai.cache.keysecret import key_secret

        self._secret = key_secret(settings)
        self._hash = KeyedHash(self._secret)
        self._prefixes: dict[tuple[str | None, str, str], str] = {}
        self._model_parts: dict[tuple[str, str], str] = {}  # (model, version) -> ":{model}:{version}:"
        if settings.retry_backend_after_s < 0:
            raise ConfigError("[cache] retry_backend_after_s: expected a number >= 0")
        self.settings = settings
        self._clock = clock
        self._backend = backend
        self._rebuild = rebuild
        self._fallback = MemoryBackend.from_options(
            {**settings.options, "max_entries": settings.max_entries}, clock=clock
        )
        self._lock = threading.Lock()
        self._flights: SingleFlight[tuple[Any, Source]] = SingleFlight()
        self._degraded = backend is None and rebuild is not None
        self._probing = False
        self._next_probe = clock() + settings.retry_backend_after_s if self._degraded else 0.0
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        self._writes = 0  # entries stored, counted after each write (see get_or_refresh's ``unchanged_since``)
        self._counts = dict.fromkeys(
            ("hits", "misses", "sets", "skipped", "deletes", "errors", "decode_errors", "fallbacks", "recoveries"), 0
        )

    @classmethod
    def from_specs(
        cls,
        specs: Mapping[str, CacheBackendSpec],
        settings: CacheSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> CacheManager:
        """Build the configured backend through its spec's factory.

        The factory gets the ``[cache]`` options plus ``namespace`` (what its ``clear`` may delete) and
        ``max_entries`` (unless the options set it). A ``ConfigError`` from the factory is raised (a
        wrong setting never fixes itself); any other failure (Redis down at start) starts the manager
        degraded on memory, and the factory is tried again at each probe.
        """
        spec = specs.get(settings.backend)
        if spec is None:
            installed = ", ".join(sorted(specs)) or "none"
            raise ConfigError(f"[cache] backend: unknown cache backend {settings.backend!r}; installed: {installed}")
        if not settings.enabled:
            return cls(None, settings, clock=clock)
        options = {"max_entries": settings.max_entries, **settings.options, "namespace": settings.namespace}

        def build() -> CacheBackend:
            return spec.factory(options)

        try:
            backend = build()
        except ConfigError:
            raise
        except Exception as exc:
            manager = cls(None, settings, clock=clock, rebuild=build)
            manager._fault(exc, "build")
            return manager
        return cls(backend, settings, clock=clock, rebuild=build)

    def __repr__(self) -> str:
        return (
            f"CacheManager(backend={self.settings.backend!r}, active={self.active_backend!r}, "
            f"namespace={self._namespace!r})"
        )

    # -- state -----------------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    @property
    def degraded(self) -> bool:
        return self._degraded

    @property
    def active_backend(self) -> str:
        if self._degraded or self._backend is None:
            return self._fallback.name
        return str(getattr(self._backend, "name", self.settings.backend))

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def _fault(self, exc: BaseException, op: str) -> None:
        message = describe_error(exc)
        now = self._clock()
        with self._lock:
            self._counts["errors"] += 1
            self._last_error = message
            self._last_error_at = now
            self._next_probe = now + self.settings.retry_backend_after_s
            first = not self._degraded
            self._degraded = True
        if first:
            log.warning(
                "cache backend %r failed during %s (%s); serving from memory, retrying in %.1fs",
                self.settings.backend,
                op,
                message,
                self.settings.retry_backend_after_s,
            )

    def _probe(self) -> bool:
        """Run by the one caller that claimed the probe: rebuild if needed, then ``ping``."""
        try:
            if self._backend is None:
                assert self._rebuild is not None
                self._backend = self._rebuild()
            ok = bool(self._backend.ping())
            if not ok:
                raise ConnectionError("backend ping returned false")
        except Exception as exc:
            with self._lock:
                self._probing = False
            self._fault(exc, "probe")
            return False
        with self._lock:
            self._probing = False
            self._degraded = False
            self._counts["recoveries"] += 1
        self._fallback.clear()
        log.warning("cache backend %r answers again; leaving the in-memory fallback", self.settings.backend)
        return True

    def _primary(self) -> CacheBackend | None:
        """The backend to use now, or None for the fallback. At most one caller probes at a time."""
        if not self._degraded:
            return self._backend
        if self._clock() < self._next_probe:
            return None
        with self._lock:
            if self._probing or not self._degraded or self._clock() < self._next_probe:
                return self._backend if not self._degraded else None
            self._probing = True
        return self._backend if self._probe() else None

    def _call(self, op: str, fn: Callable[[CacheBackend], T], default: T) -> T:
        """``fn`` on the backend; on a fault (or while degraded) ``fn`` on the memory fallback."""
        backend = self._backend if not self._degraded else self._primary()
        if backend is not None:
            try:
                return fn(backend)
            except Exception as exc:
                self._fault(exc, op)
        self._count("fallbacks")
        try:
            return fn(self._fallback)
        except Exception:  # pragma: no cover - the memory backend does not raise; belt and braces
            log.exception("in-memory cache fallback failed during %s", op)
            return default

    # -- keys and values -------------------------------------------------------------------------
    def key(self, *, tenant: str | None, model_id: str, model_version: str, features: Mapping[str, Any]) -> str:
        """The key of one prediction (``hotcrm_ai.cache.keys``); ``ValidationError`` for unhashable features."""
        return self._key_prefix + key_tail(tenant, model_id, model_version, features, secret=self._secret)

    def digest(self, canonical: str | bytes) -> str:
        """The keyed hash of canonical features (``canonical_bytes``, or its text), as this deployment's
        keys carry it."""
        if isinstance(canonical, str):
            return text_digest(canonical, secret=self._secret)
        return self._hash.hexdigest(canonical)

    def digest_keys(self, prefix: str, canonicals: Sequence[bytes | None]) -> list[str | None]:
        """``prefix`` (:meth:`key_prefix`) + the digest of each canonical form (None stays None): a
        batch's keys in one loop, the keyed hash's state copied without a method lookup per row."""
        return [None if d is None else prefix + d for d in self._hash.hexdigests(canonicals)]

    def digest_key(self, *, tenant: str | None, model_id: str, model_version: str, digest: str) -> str:
        """The key of one prediction whose canonical features were already hashed (:meth:`digest`)."""
        return self._key_prefix + canonical_key_tail(tenant, model_id, model_version, digest)

    def key_prefix(self, *, tenant: str | None, model_id: str, model_version: str) -> str:
        """Everything of a key but the features' digest, remembered per (tenant, model, version): the
        same few combinations come back on every call (bounded: cleared past 4,096)."""
        try:
            prefix = self._prefixes.get((tenant, model_id, model_version))
        except TypeError:  # an unhashable argument: _new_prefix says what is wrong with it
            prefix = None
        return self._new_prefix(tenant, model_id, model_version) if prefix is None else prefix

    def request_key(self, tenant: str | None, model_id: str, model_version: str, canonical: bytes) -> str:
        """``key_prefix(...) + digest(canonical)`` in one call, for canonical bytes (every cached
        prediction makes one); ``ValidationError`` for an unusable tenant, model id or version."""
        try:
            prefix = self._prefixes.get((tenant, model_id, model_version))
        except TypeError:  # an unhashable argument: _new_prefix says what is wrong with it
            prefix = None
        if prefix is None:
            prefix = self._new_prefix(tenant, model_id, model_version)
        return prefix + self._hash.hexdigest(canonical)

    def _new_prefix(self, tenant: str | None, model_id: str, model_version: str) -> str:
        """A prefix not remembered yet (a new tenant, say), now remembered (bounded: cleared past
        4,096): the model's part of it is worked out once per model version, the tenant's component
        alone per tenant. Same text as ``digest_key``."""
        try:
            part = self._model_parts.get((model_id, model_version))
        except TypeError:  # an unhashable argument: digest_key says what is wrong with it
            part = None
        if part is None:
            # checks both, and the tenant (None is "_"), in its place: v2:_:{model}:{version}:
            tail = canonical_key_tail(None, model_id, model_version, "")
            part = tail[len(KEY_VERSION) + 1 + len(NO_TENANT) :]
            if len(self._model_parts) >= 4096:
                self._model_parts.clear()
            self._model_parts[(model_id, model_version)] = part
        prefix = self._key_prefix + KEY_VERSION + ":" + tenant_component(tenant) + part
        if len(self._prefixes) >= 4096:
            self._prefixes.clear()
        self._prefixes[(tenant, model_id, model_version)] = prefix
        return prefix

    def get(self, key: str, type_: type | None = None, *, count: bool = True) -> Any | None:
        """The cached value or None. With ``type_`` the JSON is structured into it (mismatch = miss).
        ``count=False``: a second look that is not a lookup of its own (not counted as hit or miss).

        The hot path of every cached prediction, so it is written out flat rather than through
        ``get_many``; the behaviour is the same.
        """
        if not self.settings.enabled:
            self._count("misses")
            return None
        backend = self._backend if not self._degraded else self._primary()
        raw: bytes | None = None
        if backend is not None:
            try:
                # a backend may offer ``get(key)`` (Redis: GET, a lighter reply than MGET)
                single = getattr(backend, "get", None)
                raw = single(key) if single is not None else backend.get_many((key,))[0]
            except Exception as exc:
                self._fault(exc, "get")
                backend = None
        if backend is None:
            self._count("fallbacks")
            raw = self._fallback.get(key)
        value = None
        if raw is not None:
            try:
                value = decode(raw, type_)
            except DecodeError as exc:
                log.debug("cache entry %s is not ours (%s); treating it as a miss", key, exc)
                self._count("decode_errors")
                self._discard(key)
        if count:
            lock = self._lock
            lock.acquire()  # not ``with``: its method lookups cost more than this section
            try:
                self._counts["misses" if value is None else "hits"] += 1
            finally:
                lock.release()
        return value

    def get_many(self, keys: Sequence[str], type_: type | None = None) -> list[Any | None]:
        """One backend round trip for all ``keys``; results in the same order, None for misses."""
        keys = list(keys)
        return self._lookup(keys, type_) if keys else []

    def _lookup(self, keys: list[str], type_: type | None) -> list[Any | None]:
        if not self.settings.enabled:
            self._count("misses", len(keys))
            return [None] * len(keys)

        def fetch(backend: CacheBackend) -> list[bytes | None]:
            raws = backend.get_many(keys)
            if len(raws) != len(keys):
                raise ValueError(f"backend returned {len(raws)} values for {len(keys)} keys")
            return raws

        misses: list[bytes | None] = [None] * len(keys)
        raws = self._call("get", fetch, misses)
        values = decode_all(raws, type_)  # the usual batch: every entry ours, checked all at once
        if values is not None:
            hits = len(values) - values.count(None)
            with self._lock:
                self._counts["hits"] += hits
                self._counts["misses"] += len(keys) - hits
            return values
        out: list[Any | None] = []
        bad: list[str] = []
        hits = 0
        for key, raw in zip(keys, raws, strict=True):
            value = None
            if raw is not None:
                try:
                    value = decode(raw, type_)
                    hits += value is not None
                except DecodeError as exc:
                    log.debug("cache entry %s is not ours (%s); treating it as a miss", key, exc)
                    bad.append(key)
            out.append(value)
        with self._lock:
            counts = self._counts
            counts["hits"] += hits
            counts["misses"] += len(keys) - hits
            if bad:
                counts["decode_errors"] += len(bad)
        for key in bad:
            self._discard(key)
        return out

    def _discard(self, key: str) -> None:
        """Delete an entry that is not ours (undecodable), so the next write replaces it."""
        self._call("delete", lambda b: b.delete(key), False)

    def set(self, key: str, value: Any, ttl_s: float | None = None) -> None:
        """Store ``value`` (JSON-able or attrs) for ``ttl_s`` seconds (default ``default_ttl_s``; <= 0 = not stored)."""
        if not self.settings.enabled:
            return
        item = self._item(key, value, self.settings.default_ttl_s if ttl_s is None else ttl_s)
        if item is None:
            self._count("skipped")
            return
        self._call("set", lambda b: b.set_many((item,)), None)
        lock = self._lock
        lock.acquire()  # not ``with``: its method lookups cost more than this section
        try:
            self._counts["sets"] += 1
            self._writes += 1
        finally:
            lock.release()

    def set_many(self, items: Sequence[tuple[str, Any, float]]) -> None:
        """Store all ``(key, value, ttl_s)`` in one backend round trip. Never raises."""
        if not self.settings.enabled:
            return
        encoded: list[tuple[str, bytes, float]] = []
        skipped = 0
        for key, value, ttl_s in items:
            item = self._item(key, value, ttl_s)
            if item is None:
                skipped += 1
            else:
                encoded.append(item)
        if encoded:
            self._call("set", lambda b: b.set_many(encoded), None)
        with self._lock:
            self._counts["skipped"] += skipped
            self._counts["sets"] += len(encoded)
            self._writes += len(encoded)

    def writes(self) -> int:
        """How many entries ``set`` and ``set_many`` have stored so far (each counted once written)."""
        return self._writes

    @staticmethod
    def _item(key: str, value: Any, ttl_s: Any) -> tuple[str, bytes, float] | None:
        """What the backend stores for one entry; None when it is not stored (no value, no usable
        TTL, no JSON form)."""
        ttl = _ttl(ttl_s)
        if value is None or ttl is None:
            return None
        try:
            return key, encode(value), ttl
        except (TypeError, ValueError) as exc:
            log.warning("not caching %s: value has no JSON form (%s)", key, exc)
            return None

    def delete(self, key: str) -> bool:
        """Remove ``key`` (also from the fallback, so it cannot come back from there)."""
        self._count("deletes")
        removed = self._fallback.delete(key)
        if self._backend is None or not self.settings.enabled:
            return removed
        return bool(self._call("delete", lambda b: b.delete(key), False)) or removed

    def clear(self, tenant: str | None = None) -> int:
        """Remove our namespace (or only ``tenant``'s entries in it) from the backend (even while
        degraded: one attempt) and the fallback."""
        if tenant is not None:
            tenant_component(tenant)  # a ValidationError for an unusable tenant, before anything goes
        count = self._fallback.clear() if tenant is None else self._fallback.clear(tenant)
        if self._backend is not None:
            try:
                count += int(self._backend.clear() if tenant is None else self._backend.clear(tenant))
            except Exception as exc:
                self._fault(exc, "clear")
        return count

    # -- single flight ---------------------------------------------------------------------------
    def get_or_compute(
        self,
        key: str,
        compute: Callable[[], tuple[Any, float]],
        *,
        type_: type | None = None,
        wait_timeout_s: float | None = None,
    ) -> Lookup:
        """The cached value, else ``compute()`` -> ``(value, ttl_s)`` run once per key in this process.

        Concurrent callers with the same key while a lookup or computation is running wait for it and
        get its value (``source="shared"``) or its exception; ``ttl_s <= 0`` (a degraded answer, say) is
        handed to the waiters but not stored. Across processes there is no lock: each process may
        compute once. With the cache disabled, ``compute`` runs for every call.
        """
        return self.get_or_refresh(key, lambda _stale: compute(), type_=type_, wait_timeout_s=wait_timeout_s)

    def get_or_refresh(
        self,
        key: str,
        compute: Callable[[Any | None], tuple[Any, float]],
        *,
        type_: type | None = None,
        fresh: Callable[[Any], bool] | None = None,
        store: Callable[[Any], Any | None] | None = None,
        wait_timeout_s: float | None = None,
        missed: bool = False,
        unchanged_since: int | None = None,
    ) -> Lookup:
        """``get_or_compute`` for values that go stale and for callers that hand more than they store.

        A stored value for which ``fresh(value)`` is False is stale: ``compute(stale)`` runs (it may
        serve the stale value when its own source fails); otherwise ``compute(None)`` runs on a miss.
        ``store(value)`` is what of the computed value goes into the cache (None: nothing), so the
        waiters get the whole computed value while only the record is kept. One flight per key.
        ``missed``: the caller has just looked (``get``, counted) and found nothing fresh, so the
        lookup before the flight is skipped; the one inside it still runs, unless ``unchanged_since``
        (``writes()`` read before that lookup, which found no entry at all) shows that nothing has
        been written since: the entry a concurrent leader stored would have been counted first.
        """
        if not self.settings.enabled:
            return Lookup(compute(None)[0], "computed")
        if not missed:  # a fresh entry needs no flight (no lock, no event): the common case of a hot key
            hit = self.get(key, type_)
            if hit is not None and (fresh is None or fresh(hit)):
                return Lookup(hit, "cache")
        flights = self._flights
        flight = flights.join(key)
        if flight is not None:  # a concurrent caller leads: wait for its value (or lead after a timeout)
            (value, source), shared = flights.follow(
                flight, lambda: self._lead(key, compute, type_, fresh, store, unchanged_since), wait_timeout_s
            )
            return _new_tuple(Lookup, (value, "shared" if shared and source == "computed" else source))
        # the leader runs the work here, with no closure or extra frame (most misses lead alone)
        try:
            value, source = self._lead(key, compute, type_, fresh, store, unchanged_since)
        except BaseException as exc:
            flights.finish(key, None, exc)
            raise
        flights.finish(key, (value, source), None)
        return _new_tuple(Lookup, (value, source))

    def _lead(
        self,
        key: str,
        compute: Callable[[Any | None], tuple[Any, float]],
        type_: type | None,
        fresh: Callable[[Any], bool] | None,
        store: Callable[[Any], Any | None] | None,
        unchanged_since: int | None,
    ) -> tuple[Any, Source]:
        """What the flight's leader does: look again (a caller that missed just before another stored
        must not call ``compute`` a second time; nothing written since its lookup: nothing to find),
        else compute and store."""
        again = None
        if unchanged_since is None or unchanged_since != self._writes:
            again = self.get(key, type_, count=False)
            if again is not None and (fresh is None or fresh(again)):
                with self._lock:  # the lookup before counted a miss; it was a hit after all
                    self._counts["misses"] -= 1
                    self._counts["hits"] += 1
                return again, "cache"
        value, ttl_s = compute(again)
        record = value if store is None else store(value)
        if record is not None and ttl_s and ttl_s > 0:
            self.set(key, record, ttl_s)
        return value, "computed"

    # -- reporting -------------------------------------------------------------------------------
    def stats(self) -> CacheStats:
        backend_stats: dict[str, Any] = {}
        if self._backend is not None and not self._degraded:
            try:
                backend_stats = dict(self._backend.stats())
            except Exception as exc:
                self._fault(exc, "stats")
        fallback_stats = self._fallback.stats()
        with self._lock:
            counts = dict(self._counts)
            last_error, last_at = self._last_error, self._last_error_at
            degraded, next_probe = self._degraded, self._next_probe
        now = self._clock()
        lookups = counts["hits"] + counts["misses"]
        active = fallback_stats if degraded or self._backend is None else backend_stats
        size = active.get("size")
        return CacheStats(
            backend=self.settings.backend,
            active_backend=self.active_backend,
            enabled=self.settings.enabled,
            degraded=degraded,
            **counts,
            single_flight_shared=self._flights.shared,
            evictions=int(backend_stats.get("evictions", 0)) + int(fallback_stats.get("evictions", 0)),
            size=int(size) if isinstance(size, int) else None,
            hit_rate=round(100.0 * counts["hits"] / lookups, 2) if lookups else 0.0,
            last_error=last_error,
            last_error_age_s=round(now - last_at, 3) if last_at is not None else None,
            retry_in_s=round(max(0.0, next_probe - now), 3) if degraded else None,
            backend_stats=backend_stats,
            fallback_stats=fallback_stats,
        )

    def health(self) -> dict[str, Any]:
        """Cheap (no backend call): ``status`` is ``ok``, ``degraded`` (serving from memory) or ``disabled``."""
        with self._lock:
            degraded, last_error, next_probe = self._degraded, self._last_error, self._next_probe
        status = "disabled" if not self.settings.enabled else "degraded" if degraded else "ok"
        return {
            "status": status,
            "backend": self.settings.backend,
            "active_backend": self.active_backend,
            "degraded": degraded,
            "last_error": last_error,
            "retry_in_s": round(max(0.0, next_probe - self._clock()), 3) if degraded else None,
        }

    def close(self) -> None:
        if self._backend is not None:
            try:
                self._backend.close()
            except Exception as exc:  # closing a dead connection is not worth an error
                log.debug("closing cache backend failed: %s", describe_error(exc))
        self._fallback.close()
