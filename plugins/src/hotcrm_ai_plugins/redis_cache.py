"""The ``redis`` cache backend: the cache a multi-instance deployment shares (redis-py).

Importing this module is cheap: redis-py is imported by the factory. What it does, and why:

* Short socket timeouts (0.1 s connect and read by default) and **no client-side retries**: when Redis
  is down or paused the call fails fast and the cache manager serves from memory; a retry here would
  only multiply the wait of every request.
* ``SET key value PX ttl`` sets the TTL atomically with the value; ``MGET`` (or one pipeline of MGETs
  for very large batches) reads a whole batch in one round trip; ``set_many`` is one non-transactional
  pipeline.
* Single lookups (``GET``, one ``MGET``) skip redis-py's per-command machinery (``Redis.execute_command``:
  retry wrapper, observability hooks, pool queue and readiness poll): they run ``send_command`` and
  ``read_response`` on a connection kept checked out of the pool for them (``_Lane``). That machinery
  cost more than the round trip itself, and its code evicted the caller's from the CPU caches, so the
  Python after each GET ran slower too. A connection that raised is disconnected and the error goes to
  the manager; the one exception is a parked connection the server closed meanwhile, which is
  replaced once (what the pool's checkout check would have done), since these commands are reads.
* A key of ours holding another type (a list, a hash: someone wrote it there) is a bad entry, not a
  dead server: GET's WRONGTYPE reply reads as ``NOT_A_VALUE`` (a corrupt entry to the manager: counted
  in ``decode_errors``, a miss, then deleted), and ``SET`` replaces a value of any type. MGET answers
  nil for such a key, so a batch sees a plain miss and its write replaces it. The key is ours by
  construction (prefix, namespace, digest), so replacing what is there loses nobody's data.
* Values are the manager's JSON bytes; nothing is ever unpickled. Values larger than
  ``max_value_bytes`` are not stored (counted), so one huge answer cannot fill Redis.
* ``clear()`` walks ``SCAN MATCH {prefix}{namespace}:*`` and ``UNLINK``s in batches: never
  ``FLUSHDB``/``FLUSHALL``, so other applications' keys in the same database are untouched.
* The URL may carry a password: it is a ``Secret`` (``url = {env = "HOTCRM_AI_REDIS_URL"}`` works) and
  only a redacted form (``redis://user:***@host:6379/0``) ever appears in a repr, log or stats.
"""

from __future__ import annotations

import os
import re
import threading
import urllib.parse
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from hotcrm_ai.descriptors import CacheBackendSpec
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.options import at_least, check_keys, option_names, parse_options, positive
from hotcrm_ai.secrets import Secret, mask_url

DEFAULT_URL = "redis://127.0.0.1:6379/0"
SCHEMES = ("redis", "rediss", "unix")
# Redis refuses PX beyond LLONG_MAX - now ("value is not an integer or out of range"), which the manager
# would take for an outage; a TTL this long (~31,700 years) is "forever" anyway.
MAX_PX = 10**15


_POSITIVE_INT = at_least(1)

#: What ``get`` returns for a key of ours holding another type than a string: bytes no cache codec
#: accepts (not JSON), so the manager takes the entry for a corrupt one, like a foreign writer's bytes.
NOT_A_VALUE = b"\x00WRONGTYPE: not a string value"


def _wrong_type(exc: BaseException) -> bool:
    """Redis's reply to a string command on a key holding a list, a hash, a set...: the entry is bad,
    the server is fine (other error replies, OOM, READONLY, NOAUTH, stay faults)."""
    return str(exc).startswith("WRONGTYPE")


def _default_url() -> Secret:
    return Secret(DEFAULT_URL)


@attrs.frozen
class RedisConfig:
    """The ``[cache]`` keys this backend declares (docs/cache.md has the table with defaults).

    ``url`` and ``password`` are secrets: a string or ``{ env = "NAME" }``, never printed whole."""

    url: Secret = attrs.field(factory=_default_url, repr=False)
    username: str | None = None
    password: Secret | None = attrs.field(default=None, repr=False)
    prefix: str = attrs.field(default="", validator=lambda inst, a, v: _check_prefix(v))
    namespace: str = "hotcrm-ai"
    socket_timeout_s: float = attrs.field(default=0.1, validator=positive)
    socket_connect_timeout_s: float = attrs.field(default=0.1, validator=positive)
    pool_timeout_s: float | None = attrs.field(default=None, validator=positive)  # None: socket_timeout_s
    max_connections: int = attrs.field(default=64, validator=_POSITIVE_INT)
    max_value_bytes: int = attrs.field(default=1024 * 1024, validator=_POSITIVE_INT)
    mget_chunk: int = attrs.field(default=1000, validator=_POSITIVE_INT)
    scan_count: int = attrs.field(default=1000, validator=_POSITIVE_INT)
    stats_scan_limit: int = attrs.field(default=100_000, validator=_POSITIVE_INT)
    client_name: str | None = "hotcrm-ai"
    ssl_ca_certs: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_cert_reqs: str | None = None
    ssl_check_hostname: bool | None = None


def redact_url(url: str) -> str:
    """``url`` with its password masked (``hotcrm_ai.secrets.mask_url``, the one rule for URLs)."""
    return mask_url(url)


@attrs.frozen
class RedisOptions:
    """What the backend runs with: ``RedisConfig`` checked, the URL's display form, the TLS settings."""

    url: Secret = attrs.field(repr=False)
    display_url: str
    username: str | None = None
    password: Secret | None = attrs.field(default=None, repr=False)
    prefix: str = ""
    namespace: str = "hotcrm-ai"
    socket_timeout_s: float = 0.1
    socket_connect_timeout_s: float = 0.1
    pool_timeout_s: float = 0.1
    max_connections: int = 64
    max_value_bytes: int = 1024 * 1024
    mget_chunk: int = 1000
    scan_count: int = 1000
    stats_scan_limit: int = 100_000
    client_name: str | None = "hotcrm-ai"
    ssl: dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> RedisOptions:
        """``RedisConfig`` from the options (keys for the manager or the memory fallback are not ours),
        then the checks across keys; every error is a ``ConfigError`` naming the key, never a secret."""
        from hotcrm_ai.builtins.memory_cache import MemoryOptions

        # the table is shared with the manager (namespace) and the in-memory fallback (its bounds)
        check_keys("cache", options, option_names(RedisConfig) | option_names(MemoryOptions) | {"namespace"})
        ours = {k: v for k, v in options.items() if k in option_names(RedisConfig)}
        cfg = parse_options(RedisConfig, ours, section="cache")
        plain = cfg.url.reveal()
        scheme = plain.split("://", 1)[0].lower() if "://" in plain else ""
        if scheme not in SCHEMES:
            raise ConfigError(f"[cache] url: expected a redis://, rediss:// or unix:// URL, got scheme {scheme!r:.20}")
        ssl: dict[str, Any] = {
            key: getattr(cfg, key)
            for key in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs", "ssl_check_hostname")
            if getattr(cfg, key) is not None
        }
        if ssl and scheme != "rediss":
            raise ConfigError(f"[cache] {', '.join(sorted(ssl))}: only apply to rediss:// URLs")
        return cls(
            url=cfg.url,
            display_url=mask_url(plain),
            username=cfg.username,
            password=cfg.password,
            prefix=cfg.prefix,
            namespace=cfg.namespace or "hotcrm-ai",
            socket_timeout_s=cfg.socket_timeout_s,
            socket_connect_timeout_s=cfg.socket_connect_timeout_s,
            pool_timeout_s=cfg.pool_timeout_s if cfg.pool_timeout_s is not None else cfg.socket_timeout_s,
            max_connections=cfg.max_connections,
            max_value_bytes=cfg.max_value_bytes,
            mget_chunk=cfg.mget_chunk,
            scan_count=cfg.scan_count,
            stats_scan_limit=cfg.stats_scan_limit,
            client_name=cfg.client_name,
            ssl=ssl,
        )


_PREFIX = re.compile(r"(?:[A-Za-z0-9._-]+:)*")


def _check_prefix(value: Any) -> None:
    """Segments of key-safe characters, each ending in ':' (``team:``, ``prod:crm:``), or empty: a
    prefix can then never end inside another deployment's namespace."""
    if not isinstance(value, str) or len(value) > 200 or _PREFIX.fullmatch(value) is None:
        raise ConfigError(
            f"[cache] prefix: expected segments of letters, digits, '.', '_' or '-', each ending "
            f"in ':' (e.g. 'team:'), or empty, got {str(value)[:60]!r}"
        )


def _glob_escape(text: str) -> str:
    """Escape Redis glob metacharacters so a prefix matches only itself in ``SCAN MATCH``."""
    return "".join("\\" + ch if ch in "*?[]\\^-" else ch for ch in text)


_pack: Callable[[tuple[Any, ...]], bytes] | None
try:  # what redis-py packs commands with when hiredis is installed, minus its per-call argument checks
    from hiredis import pack_command as _pack
except ImportError:  # pragma: no cover - redis-py's own packer then
    _pack = None


class _Lane:
    """A few pooled connections kept checked out for single lookups, so a GET costs a ``list.pop``, the
    command and a ``list.append`` instead of the pool's queue, readiness poll and bookkeeping.

    At most ``keep`` connections are parked (a quarter of the pool, at most 8): the rest of the pool
    stays free for pipelines and the other commands. The lane runs only reads (GET, MGET), so a parked
    connection is not polled before use, as the pool does at checkout: when it fails with a
    ``ConnectionError`` (the server closed it while it was parked: a restart, an idle timeout, CLIENT
    KILL) the read runs once more on a connection from the pool, whose checkout reconnects. A timeout
    is not repeated. A connection that raised is disconnected, never parked, so it can never hold the
    late reply of a read that timed out. A forked child drops what the parent parked.
    """

    _all: weakref.WeakSet[_Lane] = weakref.WeakSet()

    def __init__(self, pool: Any, keep: int, closed_error: type[BaseException]) -> None:
        self._pool = pool
        self._keep = keep
        self._closed_error = closed_error  # redis.ConnectionError
        self._idle: list[Any] = []
        self._closed = False
        _Lane._all.add(self)

    def command(self, *args: Any) -> Any:
        """One read's reply; raises what redis-py raises (``ConnectionError``, ``TimeoutError``...)."""
        try:
            conn = self._idle.pop()  # list.pop and append are atomic: no lock needed
        except IndexError:
            return self._run(self._pool.get_connection(), args)
        try:
            return self._run(conn, args)
        except self._closed_error:
            return self._run(self._pool.get_connection(), args)

    def _run(self, conn: Any, args: tuple[Any, ...]) -> Any:
        try:
            conn.send_packed_command((_pack(args),) if _pack is not None else conn.pack_command(*args))
            reply = conn.read_response()
        except BaseException:
            conn.disconnect()
            self._pool.release(conn)
            raise
        if len(self._idle) < self._keep and not self._closed and not conn.should_reconnect():
            self._idle.append(conn)
            if len(self._idle) > self._keep:  # threads parked at the same time: one goes back
                self._release_one()
        else:
            self._pool.release(conn)
        return reply

    def _release_one(self) -> bool:
        try:
            conn = self._idle.pop()
        except IndexError:
            return False
        self._pool.release(conn)
        return True

    def close(self) -> None:
        """Hand every parked connection back to the pool (which the backend then disconnects)."""
        self._closed = True
        while self._release_one():
            pass

    def forget(self) -> None:
        """In a forked child: the parent's sockets are not ours to use (the pool resets itself)."""
        self._idle = []


def _after_fork() -> None:
    for lane in list(_Lane._all):
        lane.forget()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


class RedisBackend:
    """``CacheBackend`` over redis-py. Raises redis-py's errors: the cache manager absorbs them."""

    name = "redis"

    def __init__(self, options: RedisOptions) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.options = options
        kwargs: dict[str, Any] = {
            "socket_timeout": options.socket_timeout_s,
            "socket_connect_timeout": options.socket_connect_timeout_s,
            "retry": Retry(NoBackoff(), 0),  # fail fast: the manager's fallback is the retry
            "max_connections": options.max_connections,
            "timeout": options.pool_timeout_s,  # waiting for a free pooled connection
            "client_name": options.client_name,
            **options.ssl,
        }
        url = options.url.reveal()
        parts = urllib.parse.urlsplit(url)
        # redis-py copies URL query parameters into the pool and they win over our keyword arguments;
        # these would change what replies look like or bypass our timeouts, so they are refused
        reserved = {
            "decode_responses",
            "encoding",
            "encoding_errors",
            "protocol",
            "socket_timeout",
            "socket_connect_timeout",
            "retry",
            "max_connections",
        }
        clashing = sorted({k.lower() for k, _ in urllib.parse.parse_qsl(parts.query)} & reserved)
        if clashing:
            raise ConfigError(
                f"[cache] url: query parameters {', '.join(clashing)} are set by hotcrm-ai; use the [cache] "
                f"options instead ({options.display_url})"
            )
        if options.username is not None and not parts.username:
            kwargs["username"] = options.username
        if options.password is not None and not parts.password:
            kwargs["password"] = options.password.reveal()
        try:
            self._pool = redis.BlockingConnectionPool.from_url(url, **kwargs)
        except ValueError:  # redis-py's message may quote the URL: never show it
            raise ConfigError(f"[cache] url: not a valid Redis URL ({options.display_url})") from None
        self._client = redis.Redis(connection_pool=self._pool)
        self._lane = _Lane(self._pool, min(8, options.max_connections // 4), redis.ConnectionError)
        self._prefix = options.prefix
        self._pattern = _glob_escape(options.prefix + options.namespace + ":") + "*"
        self._lock = threading.Lock()
        self._response_error: type[Exception] = redis.ResponseError
        counts = ("keys_read", "keys_found", "keys_written", "oversize_skipped", "unlinked", "wrong_type")
        self._counts = dict.fromkeys(counts, 0)

    def __repr__(self) -> str:
        return f"RedisBackend(url={self.options.display_url!r}, prefix={self._prefix!r})"

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, n in deltas.items():
                self._counts[name] += n

    @property
    def client(self) -> Any:
        """The redis-py client (for tests and benchmarks that compare against raw commands)."""
        return self._client

    def redis_key(self, key: str) -> str:
        return self._prefix + key

    # -- CacheBackend ----------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        """One key with GET (the manager uses this for single lookups: a lighter reply than MGET).

        A key of ours holding a list, a hash... (someone wrote it there) makes Redis answer WRONGTYPE:
        a bad entry, not a dead server. It reads as ``NOT_A_VALUE``, which the manager counts as a
        corrupt entry (``decode_errors``), serves as a miss and deletes, leaving the backend in use."""
        try:
            # redis-py types replies `bytes | str`; this client never sets decode_responses, so they are bytes
            value: bytes | None = self._lane.command("GET", self._prefix + key)
        except self._response_error as exc:
            if not _wrong_type(exc):
                raise
            value = NOT_A_VALUE
            self._count(wrong_type=1)
        counts = self._counts
        with self._lock:  # written out: the keyword form of _count costs as much again on every hit
            counts["keys_read"] += 1
            if value is not None:
                counts["keys_found"] += 1
        return value

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        full = [self._prefix + k for k in keys] if self._prefix else keys
        chunk = self.options.mget_chunk
        if len(full) <= chunk:
            values: list[bytes | None] = self._lane.command("MGET", *full)  # bytes: see get()
        else:  # still one round trip: a pipeline of MGETs
            pipe = self._client.pipeline(transaction=False)
            for i in range(0, len(full), chunk):
                pipe.mget(full[i : i + chunk])
            values = [v for part in pipe.execute() for v in part]
        self._count(keys_read=len(full), keys_found=len(values) - values.count(None))
        return values

    def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        limit = self.options.max_value_bytes
        todo = [
            (self._prefix + k, v, max(1, round(min(ttl * 1000, MAX_PX))))
            for k, v, ttl in items
            if ttl > 0 and len(v) <= limit
        ]
        oversize = sum(1 for _, v, ttl in items if ttl > 0 and len(v) > limit)
        if len(todo) == 1:
            key, value, px = todo[0]
            self._client.set(key, value, px=px)
        elif todo:
            pipe = self._client.pipeline(transaction=False)
            for key, value, px in todo:
                pipe.set(key, value, px=px)
            pipe.execute()
        self._count(keys_written=len(todo), oversize_skipped=oversize)

    def delete(self, key: str) -> bool:
        removed = int(self._client.unlink(self._prefix + key))
        self._count(unlinked=removed)
        return removed > 0

    def clear(self, tenant: str | None = None) -> int:
        """UNLINK every key of our exact shape under ``{prefix}{namespace}:`` (or only ``tenant``'s), in
        batches of ``scan_count``. A key of another deployment whose prefix merely starts like ours has
        another shape and stays."""
        from hotcrm_ai.cache.keys import is_cache_key, tenant_component

        pattern = self._pattern
        if tenant is not None:
            pattern = (
                _glob_escape(f"{self._prefix}{self.options.namespace}:")
                + "v*:"
                + _glob_escape(tenant_component(tenant) + ":")
                + "*"
            )
        removed = 0
        batch: list[bytes] = []
        start = len(self._prefix)
        for key in self._client.scan_iter(match=pattern, count=self.options.scan_count):
            text = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
            if not is_cache_key(text[start:], self.options.namespace, tenant):
                continue
            batch.append(key)
            if len(batch) >= self.options.scan_count:
                removed += int(self._client.unlink(*batch))
                batch.clear()
        if batch:
            removed += int(self._client.unlink(*batch))
        self._count(unlinked=removed)
        return removed

    def count_keys(self) -> tuple[int, bool]:
        """Keys under our namespace, by SCAN, stopping after ``stats_scan_limit``: ``(count, exact)``."""
        count = 0
        cursor = 0
        while True:
            cursor, keys = self._client.scan(cursor=cursor, match=self._pattern, count=self.options.scan_count)
            count += len(keys)
            if int(cursor) == 0:
                return count, True
            if count >= self.options.stats_scan_limit:
                return count, False

    def stats(self) -> dict[str, Any]:
        size, exact = self.count_keys()
        info = self._client.info("server")
        memory = self._client.info("memory")
        with self._lock:
            counts = dict(self._counts)
        return {
            "size": size,
            "size_exact": exact,
            **counts,
            "url": self.options.display_url,
            "prefix": self._prefix,
            "match": self._pattern,
            "max_value_bytes": self.options.max_value_bytes,
            "socket_timeout_s": self.options.socket_timeout_s,
            "redis_version": info.get("redis_version"),
            "used_memory": memory.get("used_memory"),
            "maxmemory_policy": memory.get("maxmemory_policy"),
        }

    def ping(self) -> bool:
        return bool(self._client.ping())

    def close(self) -> None:
        self._lane.close()
        self._pool.disconnect()


def redis_backend(options: Mapping[str, Any]) -> RedisBackend:
    """The factory: ``[cache]`` options -> a backend (no connection is opened until first use)."""
    parsed = RedisOptions.parse(options)
    try:
        import redis  # noqa: F401
    except ImportError:
        raise ConfigError("[cache] backend = 'redis' needs the redis package: pip install hotcrm-ai-plugins") from None
    return RedisBackend(parsed)


def backend_spec() -> CacheBackendSpec:
    return CacheBackendSpec(
        name="redis",
        factory=redis_backend,
        options=RedisConfig,
        description="Redis via redis-py: shared across processes, TTL per key, JSON values (never pickle)",
    )
