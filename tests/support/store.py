"""Real databases for store tests: a SQLite file, or a uniquely named PostgreSQL database on
127.0.0.1:5432 created for one test and dropped after it; and the worker run in other processes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PG_ADMIN = os.environ.get("HOTCRM_AI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _admin() -> Any:
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")


@contextmanager
def pg_database(prefix: str = "hcstore") -> Iterator[str]:
    """A fresh PostgreSQL database; yields its URL and drops it afterwards (connections included)."""
    from sqlalchemy import text

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def create_pg_database(url: str) -> None:
    from sqlalchemy import text

    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
    admin.dispose()


def drop_pg_database(url: str) -> None:
    from sqlalchemy import text

    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def terminate_backends(url: str) -> int:
    """``pg_terminate_backend`` every connection to the database of ``url``; returns how many."""
    from sqlalchemy import text

    admin = _admin()
    with admin.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"
            ),
            {"db": url.rsplit("/", 1)[1]},
        ).scalar_one()
    admin.dispose()
    return int(killed)


def cloud(url: str, **store: Any) -> Any:
    """An AICloud on the store at ``url`` serving the test logistic model (two versions)."""
    from hotcrm_ai.cloud import AICloud
    from hotcrm_ai.config import Settings, StoreSettings
    from support.providers import LogitProvider, Plugin, logit_model

    plugin = Plugin(providers={"test-logit": LogitProvider}, models=[logit_model(), logit_model(version="2.0.0")])
    return AICloud(Settings(store=StoreSettings(url=url, **store)), plugins=[plugin], load_entrypoints=False)


def features(i: int) -> dict[str, Any]:
    return {"x1": float(i % 17), "x2": float(i % 5) - 2.0, "x3": 1.0}


def predict_many(url: str, n: int, seed: int) -> list[str]:
    """Run in another process: ``n`` predictions (no cache), closed so every event is written."""
    ai = cloud(url)
    try:
        return [ai.predict("logit-v1", features(seed * 10_000 + i), use_cache=False).prediction_id for i in range(n)]
    finally:
        ai.close()


def record_outcome(url: str, prediction_id: str, actual: Any) -> float | None:
    """Run in another process: report an outcome; returns the absolute error it scored."""
    ai = cloud(url)
    try:
        return ai.record_outcome(prediction_id, actual).abs_error  # type: ignore[no-any-return]
    finally:
        ai.close()


def race_alias(url: str, version: str, barrier: Any) -> str:
    """Run in another process: wait for the other racer, then set ``champion``; 'won' or 'conflict'."""
    from hotcrm_ai.errors import RegistryConflictError

    ai = cloud(url)
    try:
        barrier.wait(timeout=60)
        try:
            ai.registry.set_alias("logit-v1", "champion", version, actor=f"racer-{version}")
        except RegistryConflictError:
            ai.registry.refresh()
            ai.registry.set_alias("logit-v1", "champion", version, actor=f"racer-{version}")
            return "conflict"
        return "won"
    finally:
        ai.close()
