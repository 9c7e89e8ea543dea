"""The built-in SQL store (SQLAlchemy 2 Core): SQLite by default, PostgreSQL for a fleet.

Every statement is dialect-neutral Core; only the engine set-up differs. SQLite runs in WAL mode
with ``BEGIN IMMEDIATE`` transactions and a busy timeout, so several processes on one file queue
for the write lock instead of failing; PostgreSQL goes through psycopg 3 with a connect timeout and
pre-ping, so a connection killed by the server is replaced on the next checkout.

Registry writes use optimistic concurrency: each model id has a revision counter, and a write
succeeds only if the counter still holds the revision the writer last read (``RegistryConflictError``
otherwise, with nothing written).
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from hotcrm_ai.errors import RegistryConflictError, StoreError, StoreUnavailableError
from hotcrm_ai.store import tables as t
from hotcrm_ai.store.records import LoggedPrediction, RegistrySnapshot
from hotcrm_ai.store.urls import redacted, resolve

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from hotcrm_ai.builtins.sql_store import SQLStoreOptions
    from hotcrm_ai.monitor.stats import ModelStats


try:  # the ``fast`` extra: about 5x quicker, and the writer shares the process with predictions
    import orjson

    def _dumps(value: Any) -> str:
        try:
            return orjson.dumps(
                value, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
            ).decode()
        except TypeError:
            return json.dumps(value, default=str, ensure_ascii=False)

except ImportError:  # pragma: no cover - depends on the install

    def _dumps(value: Any) -> str:
        return json.dumps(value, default=str, ensure_ascii=False)


class SQLStore:
    """A store on one SQLAlchemy URL. Connects on ``open()``; every method may raise
    ``StoreUnavailableError`` (connection lost) or ``StoreError``."""

    name = "sql"

    def __init__(self, options: SQLStoreOptions) -> None:
        """``options``: the declared ``[store]`` keys, already checked; the URL stays a reference
        until the engine is made (``url`` is what is shown: the password hidden)."""
        self._url = options.url
        self.url = redacted(resolve(options.url))
        self._engine: Engine | None = None
        self.schema_version: str | None = None

    # -- connection ---------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = _make_engine(resolve(self._url))
        return self._engine

    def open(self) -> str:
        """Connect and check the schema (creating an empty store). Returns the schema version."""
        from hotcrm_ai.store import schema

        with self._errors():
            self.schema_version = schema.check(self.engine)
        return self.schema_version

    def upgrade(self) -> str:
        from hotcrm_ai.store import schema

        with self._errors():
            self.schema_version = schema.upgrade(self.engine)
        return self.schema_version

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        from sqlalchemy import exc

        try:
            yield
        except exc.IntegrityError as err:
            raise DuplicateError(f"store {self.url}: {_first_line(err)}") from None
        except (exc.OperationalError, exc.InterfaceError) as err:
            raise StoreUnavailableError(f"store {self.url} unreachable: {_first_line(err)}") from None
        except exc.DBAPIError as err:
            if err.connection_invalidated:
                raise StoreUnavailableError(f"store {self.url} connection lost: {_first_line(err)}") from None
            raise StoreError(f"store {self.url}: {_first_line(err)}") from None

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._errors(), self.engine.begin() as conn:
            yield conn

    # -- information --------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        from sqlalchemy import func, select

        from hotcrm_ai.store import schema

        with self._errors(), self.engine.connect() as conn:
            version = schema.current(conn)
            counts = {}
            if version == schema.head():
                for name in t.ROW_COUNTED:
                    counts[name] = conn.execute(select(func.count()).select_from(t.metadata.tables[name])).scalar_one()
        return {"url": self.url, "schema_version": version, "newest_schema": schema.head(), "rows": counts}

    def purge(self, older_than: float) -> dict[str, int]:
        """Delete events, outcomes and logged predictions made before ``older_than`` (epoch s)."""
        from sqlalchemy import delete, select

        with self._tx() as conn:
            gone_ids = select(t.events.c.prediction_id).where(t.events.c.timestamp < older_than)
            outcomes = conn.execute(delete(t.outcomes).where(t.outcomes.c.prediction_id.in_(gone_ids))).rowcount
            events = conn.execute(delete(t.events).where(t.events.c.timestamp < older_than)).rowcount
            logged = conn.execute(delete(t.prediction_log).where(t.prediction_log.c.timestamp < older_than)).rowcount
        return {"events": events, "outcomes": outcomes, "prediction_log": logged}

    # -- registry -----------------------------------------------------------------------------

    def registry_token(self) -> int:
        """Changes whenever any process writes the registry (the newest history id)."""
        from sqlalchemy import func, select

        with self._errors(), self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(t.history.c.id), 0))).scalar_one())

    def load_registry(self) -> RegistrySnapshot:
        from sqlalchemy import func, select

        with self._errors(), self.engine.connect() as conn:
            token = int(conn.execute(select(func.coalesce(func.max(t.history.c.id), 0))).scalar_one())
            models = [dict(r._mapping) for r in conn.execute(select(t.models))]
            aliases: dict[str, dict[str, str]] = {}
            for r in conn.execute(select(t.aliases)):
                aliases.setdefault(r.model_id, {})[r.alias] = r.version
            revisions = {r.model_id: r.revision for r in conn.execute(select(t.model_revisions))}
        return RegistrySnapshot(token=token, models=models, aliases=aliases, revisions=revisions)

    def upsert_models(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Definitions from plugins and config: inserted when new, else their definition refreshed.
        The stored status is kept: a status set through the registry wins over the plugin's."""
        try:
            self._upsert_models(rows)
        except DuplicateError:  # another process inserted the same model first: now it is an update
            self._upsert_models(rows)

    def _upsert_models(self, rows: Sequence[Mapping[str, Any]]) -> None:
        from sqlalchemy import select, update

        now = time.time()
        with self._tx() as conn:
            known = {(r.model_id, r.version) for r in conn.execute(select(t.models.c.model_id, t.models.c.version))}
            for row in rows:
                key = (row["model_id"], row["version"])
                if key in known:
                    conn.execute(
                        update(t.models)
                        .where(t.models.c.model_id == key[0], t.models.c.version == key[1])
                        .values(definition=row["definition"], source=row["source"], updated_at=now)
                    )
                else:
                    conn.execute(t.models.insert().values(**row, updated_at=now))

    def change(
        self,
        model_id: str,
        expected_revision: int,
        *,
        actor: str,
        action: str,
        version: str,
        before: Any,
        after: Any,
        apply: Any,
    ) -> int:
        """One registry change in one transaction: check and bump the revision, ``apply(conn)``,
        append the history row. Returns the new revision."""
        from sqlalchemy import insert, update

        try:
            with self._tx() as conn:
                if expected_revision == 0:  # a concurrent first write fails on the key: DuplicateError
                    conn.execute(insert(t.model_revisions).values(model_id=model_id, revision=1))
                else:
                    bumped = conn.execute(
                        update(t.model_revisions)
                        .where(
                            t.model_revisions.c.model_id == model_id,
                            t.model_revisions.c.revision == expected_revision,
                        )
                        .values(revision=expected_revision + 1)
                    )
                    if bumped.rowcount != 1:
                        raise _conflict(model_id)
                apply(conn)
                conn.execute(
                    t.history.insert().values(
                        timestamp=time.time(),
                        actor=actor,
                        action=action,
                        model_id=model_id,
                        version=version,
                        before=before,
                        after=after,
                    )
                )
        except DuplicateError:  # a concurrent first write of the same id or key
            raise _conflict(model_id) from None
        return expected_revision + 1

    def history(self, model_id: str | None = None) -> list[dict[str, Any]]:
        from sqlalchemy import select

        query = select(t.history).order_by(t.history.c.id)
        if model_id is not None:
            query = query.where(t.history.c.model_id == model_id)
        with self._errors(), self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # -- events, log, drops -------------------------------------------------------------------

    def write_events(
        self,
        events: Sequence[Mapping[str, Any]],
        logged: Sequence[Mapping[str, Any]],
        drops: Mapping[str, int],
        process_id: str,
        features: Sequence[tuple[str, Any]] = (),
    ) -> None:
        """One batch in one transaction; ``drops`` are this process's running totals per model;
        ``features`` attach inputs to logged predictions (``log_features``)."""
        from sqlalchemy import update

        now = time.time()
        with self._tx() as conn:
            if events:
                self._insert_many(conn, t.events, events)
            if logged:
                self._insert_many(conn, t.prediction_log, logged)
            for prediction_id, values in features:
                conn.execute(
                    update(t.prediction_log)
                    .where(t.prediction_log.c.prediction_id == prediction_id)
                    .values(features=values)
                )
            for model_id, count in drops.items():
                hit = conn.execute(
                    update(t.drops)
                    .where(t.drops.c.process_id == process_id, t.drops.c.model_id == model_id)
                    .values(dropped=count, updated_at=now)
                )
                if hit.rowcount == 0:
                    conn.execute(
                        t.drops.insert().values(process_id=process_id, model_id=model_id, dropped=count, updated_at=now)
                    )

    def _insert_many(self, conn: Connection, table: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """Batch insert straight through the driver's ``executemany``: the compiled-statement path
        costs ~10x more per row in Python, and this runs beside the request path in one process."""
        sql, getter, json_idx = self._insert_plan(table, conn.dialect.paramstyle)
        params = []
        for row in rows:
            values = list(getter(row))
            for i in json_idx:
                if values[i] is not None:
                    values[i] = _dumps(values[i])
            params.append(tuple(values))
        conn.exec_driver_sql(sql, params)

    @functools.cache  # noqa: B019 (one plan per table and paramstyle; the store lives as long as the process)
    def _insert_plan(self, table: Any, paramstyle: str) -> tuple[str, Any, tuple[int, ...]]:
        from operator import itemgetter

        from sqlalchemy import JSON

        cols = [c for c in table.columns if not (c.primary_key and c.autoincrement is True and c.name == "id")]
        mark = "?" if paramstyle == "qmark" else "%s"
        names = [c.name for c in cols]
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(cols))})"
        json_idx = tuple(i for i, c in enumerate(cols) if isinstance(c.type, JSON))
        return sql, itemgetter(*names), json_idx

    def dropped(self, model_id: str | None = None) -> int:
        from sqlalchemy import func, select

        query = select(func.coalesce(func.sum(t.drops.c.dropped), 0))
        if model_id is not None:
            query = query.where(t.drops.c.model_id == model_id)
        with self._errors(), self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def prediction(self, prediction_id: str) -> LoggedPrediction | None:
        from sqlalchemy import select

        log, ev = t.prediction_log.c, t.events.c
        query = (
            select(
                log.prediction_id,
                ev.timestamp,
                ev.tenant,
                ev.requested_model_id,
                ev.model_id,
                ev.model_version,
                ev.variant,
                log.config_digest,
                ev.cached,
                ev.degraded,
                ev.degraded_reason,
                ev.latency_ms,
                ev.confidence,
                ev.prediction.label("output"),
                log.features,
            )
            .select_from(t.prediction_log.join(t.events, ev.prediction_id == log.prediction_id))
            .where(log.prediction_id == prediction_id, ev.success.is_(True))
            .limit(1)
        )
        with self._errors(), self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else LoggedPrediction(**row._mapping)

    # -- monitor queries ----------------------------------------------------------------------

    def _where(self, model_id: str, variant: str | None, window_s: float | None, now: float) -> list[Any]:
        c = t.events.c
        where = [c.model_id == model_id]
        if variant is not None:
            where.append(c.variant == variant)
        if window_s is not None:
            where.append(c.timestamp > now - window_s)
        return where

    def model_ids(self, window_s: float | None, now: float) -> list[str]:
        from sqlalchemy import select

        query = select(t.events.c.model_id).distinct().order_by(t.events.c.model_id)
        if window_s is not None:
            query = query.where(t.events.c.timestamp > now - window_s)
        with self._errors(), self.engine.connect() as conn:
            return [r[0] for r in conn.execute(query)]

    def stats(
        self, model_id: str, *, variant: str | None, window_s: float | None, now: float, max_rows: int
    ) -> ModelStats | None:
        """Counts and means in SQL (exact); percentiles from the latencies themselves (exact up to
        ``max_rows`` events, else from an every-k-th-event sample; see docs/store.md)."""
        from sqlalchemy import case, func, select

        from hotcrm_ai.monitor.stats import ModelStats, percentile_index

        c = t.events.c
        where = self._where(model_id, variant, window_s, now)
        one = case((c.success, 1), else_=0)
        counts = select(
            func.count(),
            func.sum(one),
            func.sum(case((c.cached, 1), else_=0)),
            func.sum(case((c.degraded, 1), else_=0)),
            func.avg(c.latency_ms),
            func.avg(case((c.success, c.confidence))),
            func.max(c.timestamp),
            func.min(c.id),
            func.max(c.id),
        ).where(*where)
        o = t.outcomes.c
        joined = (
            select(
                func.count(),
                func.avg(case((o.correct, 100.0), (o.correct.is_(None), None), else_=0.0)),
                func.avg(o.abs_error),
                func.count(o.correct),
                func.count(o.abs_error),
            )
            .select_from(t.outcomes.join(t.events, t.events.c.prediction_id == o.prediction_id))
            .where(*where, c.success.is_(True))
        )
        with self._errors(), self.engine.connect() as conn:
            n, ok, cached, degraded, lat_mean, conf_mean, last, lo, _hi = conn.execute(counts).one()
            if not n:
                return None
            step = max(1, math.ceil(n / max_rows))
            lat_query = select(c.latency_ms).where(*where)
            if step > 1:
                lat_query = lat_query.where((c.id - lo) % step == 0)
            import numpy as np

            latency = np.fromiter((r[0] for r in conn.execute(lat_query)), dtype=np.float64)
            usage_rows = conn.execute(select(c.usage).where(*where, c.usage.is_not(None))).scalars().all()
            n_out, accuracy, mae, n_labels, n_values = conn.execute(joined).one()
        m = len(latency)
        wanted = (percentile_index(m, 0.5), percentile_index(m, 0.95), percentile_index(m, 0.99))
        ranked = np.partition(latency, sorted(set(wanted)))
        p50, p95, p99 = (float(ranked[i]) for i in wanted)
        ok = int(ok or 0)
        return ModelStats(
            model_id=model_id,
            variant=variant,
            window_s=window_s,
            total=int(n),
            successes=ok,
            failures=int(n) - ok,
            error_rate=(int(n) - ok) / n * 100,
            degraded=int(degraded or 0),
            cached=int(cached or 0),
            cache_hit_rate=int(cached or 0) / n * 100,
            latency_mean_ms=float(lat_mean),
            latency_p50_ms=p50,
            latency_p95_ms=p95,
            latency_p99_ms=p99,
            mean_confidence=float(conf_mean) if ok and conf_mean is not None else 0.0,
            last_updated=float(last),
            outcomes=int(n_out or 0),
            accuracy=float(accuracy) if n_labels else None,
            mae=float(mae) if n_values else None,
            usage=_usage(usage_rows),
        )

    def recent_errors(self, model_id: str, limit: int) -> list[dict[str, Any]]:
        from sqlalchemy import select

        c = t.events.c
        query = select(t.events).where(c.model_id == model_id, c.success.is_(False)).order_by(c.id.desc()).limit(limit)
        with self._errors(), self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def event(self, prediction_id: str) -> dict[str, Any] | None:
        """The successful event of a prediction, for joining an outcome to it."""
        from sqlalchemy import select

        c = t.events.c
        query = select(t.events).where(c.prediction_id == prediction_id, c.success.is_(True)).limit(1)
        with self._errors(), self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else dict(row._mapping)

    def save_outcome(self, prediction_id: str, *, kind: str, actual: Any, correct: Any, abs_error: Any) -> None:
        from sqlalchemy import delete

        with self._tx() as conn:  # a correction replaces the earlier outcome
            conn.execute(delete(t.outcomes).where(t.outcomes.c.prediction_id == prediction_id))
            conn.execute(
                t.outcomes.insert().values(
                    prediction_id=prediction_id,
                    recorded_at=time.time(),
                    kind=kind,
                    actual=actual,
                    correct=correct,
                    abs_error=abs_error,
                )
            )

    def __repr__(self) -> str:
        return f"SQLStore(url={self.url!r}, schema={self.schema_version!r})"


class DuplicateError(StoreError):
    """A row with that key already exists (another process wrote it first)."""


def _conflict(model_id: str) -> RegistryConflictError:
    return RegistryConflictError(
        f"model {model_id}: changed by another process since this one read it; nothing was written "
        "(refresh the registry and retry)"
    )


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip().splitlines()
    return text[0][:300] if text else type(err).__name__


def _usage(rows: Sequence[Any]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for usage in rows:
        if isinstance(usage, Mapping):
            for key, value in usage.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    totals[str(key)] = totals.get(str(key), 0.0) + float(value)
    return totals


def _make_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        path = make_url(url).database
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, json_serializer=_dumps, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # take the write lock up front: two processes never deadlock upgrading a read lock
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {}
    return create_engine(
        url, json_serializer=_dumps, pool_pre_ping=True, pool_size=2, max_overflow=4, connect_args=connect_args
    )
