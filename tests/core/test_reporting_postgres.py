"""The same question set against PostgreSQL (a fresh database on 127.0.0.1:5432, dropped afterwards),
plus PostgreSQL's read-only transaction and statement timeout."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from support.reporting import DEMO_NOW, engine_for, measure, refused
from support.reporting_questions import MUST_REFUSE, NOW, QUESTIONS

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


def test_rules_right_abstained_wrong_postgres(pg_url: str) -> None:
    """The whole question set on PostgreSQL: wrong answers at most 1%, right at least 90%, the
    must-refuse questions all refused, and the database unchanged."""
    before = _fingerprint(pg_url)
    out = measure(pg_url, QUESTIONS, NOW)
    n = len(QUESTIONS)
    print(f"PostgreSQL: right {len(out['right'])}/{n}, abstained {len(out['abstained'])}, wrong {len(out['wrong'])}")
    assert len(out["wrong"]) <= n // 100, out["wrong"]
    assert len(out["right"]) >= 0.9 * n, out["abstained"] + out["wrong"]
    assert refused(pg_url, MUST_REFUSE, NOW) == []
    assert _fingerprint(pg_url) == before


def test_postgres_url_without_driver_uses_the_extra_driver(pg_url: str) -> None:
    """A plain ``postgresql://`` URL (the README's) runs on psycopg, which ``hotcrm-ai[postgres]`` installs."""
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    engine = engine_for(plain)
    try:
        assert engine.executor.url.drivername == "postgresql+psycopg"
        assert engine.ask("how many accounts", now=NOW).rows == [{"count": 2000}]
    finally:
        engine.close()


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
