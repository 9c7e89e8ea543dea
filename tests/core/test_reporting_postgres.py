"""The same question set against PostgreSQL (a fresh database on 127.0.0.1:5432, dropped afterwards),
plus PostgreSQL's read-only transaction and statement timeout."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from support.reporting import DEMO_NOW, check, engine_for
from support.reporting_questions import NOW, QUESTIONS

from hotcrm_ai.errors import ReportingError
from hotcrm_ai.reporting.demo_data import create_demo_database
from hotcrm_ai.reporting.execute import ReadOnlyExecutor

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    name = f"hotcrm_ai_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        create_demo_database(url, now=DEMO_NOW)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _fingerprint(url: str) -> list[tuple]:
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        out = [
            tuple(
                conn.exec_driver_sql(
                    f"SELECT COUNT(*), md5(string_agg(t::text, '|' ORDER BY t.id)) FROM \"{t}\" t"
                ).one()
            )
            for t in ("user", "product", "account", "contact", "lead", "opportunity", "case", "campaign")
        ]
    eng.dispose()
    return out


def test_rules_execution_accuracy_postgres(pg_url: str) -> None:
    before = _fingerprint(pg_url)
    engine = engine_for(pg_url)
    failures = []
    eng = sa.create_engine(pg_url)
    with eng.connect() as conn:
        for item in QUESTIONS:
            ok, why = check(engine, conn, item, NOW)
            if not ok:
                failures.append(f"{item['q']}: {why}")
    eng.dispose()
    engine.close()
    accuracy = 1 - len(failures) / len(QUESTIONS)
    print(f"rules execution accuracy (PostgreSQL): {len(QUESTIONS) - len(failures)}/{len(QUESTIONS)} = {accuracy:.1%}")
    assert accuracy >= 0.9, "\n".join(failures)
    assert _fingerprint(pg_url) == before


def test_postgres_connection_is_read_only(pg_url: str) -> None:
    ex = ReadOnlyExecutor(pg_url)
    with pytest.raises(sa.exc.DBAPIError, match="read-only"), ex.read_only_connection() as conn:
        conn.exec_driver_sql("DELETE FROM opportunity")
    with pytest.raises(sa.exc.DBAPIError, match="read-only"), ex.read_only_connection() as conn:
        conn.exec_driver_sql("CREATE TABLE evil (id int)")
    ex.close()
    assert _fingerprint(pg_url)[5][0] == 5000


def test_postgres_statement_timeout(pg_url: str) -> None:
    ex = ReadOnlyExecutor(pg_url, timeout_s=0.2)
    a, b, c = (sa.table("opportunity", sa.column("id")).alias(n) for n in ("a", "b", "c"))
    heavy = sa.select(sa.func.count()).select_from(a.join(b, sa.true()).join(c, sa.true()))
    with pytest.raises(ReportingError, match="time limit"):
        ex.run(heavy)
    # the executor still works afterwards
    assert ex.run(sa.select(sa.func.count()).select_from(a)).rows == [(5000,)]
    ex.close()
