"""Schema versions: created on first use, an older store refused with the command to run, upgraded
with every row kept, a newer store refused and never written; migrations match the tables."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text
from support.store import cloud

from hotcrm_ai.cli.main import cli
from hotcrm_ai.errors import StoreSchemaError
from hotcrm_ai.store import schema
from hotcrm_ai.store import tables as t


def _first_schema_store(path: Path) -> str:
    """A store at schema 0001 holding a history row, an alias, an event and an outcome."""
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    assert schema.upgrade(engine, "0001") == "0001"
    with engine.begin() as conn:
        conn.execute(t.model_revisions.insert().values(model_id="logit-v1", revision=1))
        conn.execute(t.aliases.insert().values(model_id="logit-v1", alias="champion", version="1.0.0"))
        conn.execute(
            t.history.insert().values(
                timestamp=time.time(),
                actor="ann",
                action="alias",
                model_id="logit-v1",
                version="1.0.0",
                before={"alias": "champion", "version": None},
                after={"alias": "champion", "version": "1.0.0"},
            )
        )
        conn.execute(
            t.events.insert().values(
                prediction_id="p1",
                timestamp=time.time(),
                model_id="logit-v1",
                requested_model_id="logit-v1",
                model_version="1.0.0",
                success=True,
                latency_ms=1.5,
                confidence=80.0,
                cached=False,
                degraded=False,
                prediction={"probability": 0.8},
            )
        )
        conn.execute(
            t.outcomes.insert().values(
                prediction_id="p1", recorded_at=time.time(), kind="value", actual=1.0, abs_error=0.2
            )
        )
    engine.dispose()
    return url


def _count(url: str, table: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(t.metadata.tables[table])).scalar_one()
    engine.dispose()
    return int(n)


def test_older_schema_names_the_command_and_upgrade_keeps_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _first_schema_store(tmp_path / "old.sqlite")
    with pytest.raises(StoreSchemaError, match=r"older than 0002: run `hotcrm-ai store upgrade`"):
        cloud(url)
    monkeypatch.setenv("HOTCRM_AI_STORE_URL", url)
    failed = CliRunner().invoke(cli, ["models", "list"])
    assert failed.exit_code == 2  # the user runs the named command
    assert failed.output.strip().splitlines() == [
        "error: the store is at schema version 0001, older than 0002: run `hotcrm-ai store upgrade`"
    ]
    done = CliRunner().invoke(cli, ["store", "upgrade"], catch_exceptions=False)
    assert done.exit_code == 0 and "schema 0001 -> 0002" in done.output
    for table in ("aliases", "history", "events", "outcomes"):
        assert _count(url, table) == 1, table
    with cloud(url) as ai:
        assert ai.registry.aliases("logit-v1") == {"logit-v1": {"champion": "1.0.0"}}
        assert ai.predict("logit-v1@champion", {"x1": 1.0, "x2": 0.0, "x3": 1.0}).model_version == "1.0.0"
        stats = ai.stats("logit-v1")
        assert stats.total == 2 and stats.outcomes == 1 and stats.mae == pytest.approx(0.2)
        assert [h.actor for h in ai.registry.history("logit-v1")] == ["ann"]


def test_newer_schema_is_refused_and_never_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    cloud(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    before = {name: _count(url, name) for name in t.ROW_COUNTED}
    with pytest.raises(StoreSchemaError, match=r"newer than this hotcrm-ai knows .0002.: upgrade hotcrm-ai"):
        cloud(url)
    with pytest.raises(StoreSchemaError, match="newer"):
        schema.upgrade(create_engine(url))
    assert {name: _count(url, name) for name in t.ROW_COUNTED} == before
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0099"
    engine.dispose()


def test_migrations_build_the_declared_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    schema.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
    assert diff == []


def test_store_info_shows_the_redacted_url_version_and_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTCRM_AI_STORE_URL", "postgresql://postgres:hunter2-secret@127.0.0.1:1/nowhere")
    res = CliRunner().invoke(cli, ["store", "info"])
    assert "hunter2-secret" not in res.output
    assert res.exit_code == 1 and "postgresql+psycopg://postgres:***@127.0.0.1:1/nowhere" in res.output
    monkeypatch.delenv("HOTCRM_AI_STORE_URL")
    res = CliRunner().invoke(cli, ["store", "info", "--json"], catch_exceptions=False)
    import json

    info = json.loads(res.output)
    assert info["schema_version"] is None and info["newest_schema"] == "0002"  # nothing created by info
    CliRunner().invoke(cli, ["store", "upgrade"], catch_exceptions=False)
    info = json.loads(CliRunner().invoke(cli, ["store", "info", "--json"], catch_exceptions=False).output)
    assert info["schema_version"] == "0002" and info["rows"]["events"] == 0
    assert info["url"].endswith("store.sqlite")


def test_the_head_constant_is_the_newest_migration() -> None:
    assert schema.head() == schema.HEAD


def test_a_first_start_committed_between_two_reads_is_seen_whole() -> None:
    """Two processes start together on an empty PostgreSQL store: the first's tables and version are
    committed at once, here just after the second has found no version and before it looks for
    tables. The second waits for the migration and sees the store at the newest version; it is never
    refused as "tables but no schema version"."""
    from alembic import command
    from sqlalchemy import event
    from support.store import pg_database

    with pg_database("hcschema") as url:
        first, second = create_engine(url), create_engine(url)
        conn = first.connect()
        tx = conn.begin()
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": schema._LOCK_KEY})
        cfg = schema._config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")  # the first process's migration, not yet committed
        statements = []

        @event.listens_for(second, "before_cursor_execute")
        def commit_first_before_the_second_statement(*args: object) -> None:
            statements.append(args[2])
            if len(statements) == 2 and tx.is_active:
                tx.commit()

        try:
            assert schema.check(second) == schema.HEAD
            assert len(statements) >= 2 and not tx.is_active
        finally:
            conn.close()
            first.dispose()
            second.dispose()
