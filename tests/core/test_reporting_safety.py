"""Safety of the reporting engine: hostile questions, malicious ASTs, a read-only connection, row cap,
time limit, tenant filter. The demo database file must be byte-for-byte unchanged afterwards."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.reporting import engine_for, file_hash, make_demo_sqlite

from hotcrm_ai.errors import ReportingError, ValidationError
from hotcrm_ai.reporting.ast import Aggregate, Filter, GroupBy, OrderBy, Query, TimeRange
from hotcrm_ai.reporting.execute import ReadOnlyExecutor

NOW = "2026-11-25"
TABLES = {"user", "product", "account", "contact", "lead", "opportunity", "case", "campaign"}

HOSTILE = [
    "select * from sqlite_master",
    "SELECT name FROM sqlite_schema WHERE type='table'",
    "revenue; DROP TABLE opportunity; --",
    "show revenue' OR '1'='1",
    "revenue in EMEA' or 1=1 --",
    "delete all accounts",
    "Please update opportunity set amount = 0 where 1=1",
    "insert into account (id) values (99999)",
    "drop table lead",
    "dr\u200bop table lead",  # zero-width space inside the keyword
    "ｄｅｌｅｔｅ ｆｒｏｍ ｃｏｎｔａｃｔ",  # full-width letters (NFKC folds them)
    "revenue by region \u202e; DROP TABLE case",  # right-to-left override
    "show me pg_catalog.pg_tables",
    "list information_schema.tables",
    "revenue from pg_sleep(10)",
    "revenue by region union select password from users",
    "attach database '/tmp/evil.db' as evil",
    "pragma writable_schema = 1",
    "revenue /* comment */ by region",
    "truncate campaign",
    "how many cases\x00; vacuum",
    "ѕelect * from ѕqlite_master",  # Cyrillic homoglyphs: not SQL to us, not understood either
    "revenue " * 1300,  # ~10 KB
    "x" * 10_240,
    "",
    "   ",
    "what is the meaning of life",
    "show me the passwords of all users",
    "Update all deals to closed won",
    "create table evil (id int)",
    "alter table account add column x int",
    "DROP the accounts table",
    "Execute sp_who",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_sqlite(tmp_path_factory.mktemp("reporting-safety"))


@pytest.fixture(scope="module")
def engine(demo: Path):  # type: ignore[no-untyped-def]
    eng = engine_for(f"sqlite:///{demo}")
    yield eng
    eng.close()


@pytest.mark.parametrize("question", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_hostile_questions_refused_or_safe(engine, demo: Path, question: str) -> None:  # type: ignore[no-untyped-def]
    before = file_hash(demo)
    res = engine.ask(question, now=NOW)
    if res.understood:
        assert res.sql.lstrip().upper().startswith("SELECT")
        referenced = {t.strip('"') for t in __import__("re").findall(r'(?:FROM|JOIN)\s+("?\w+"?)', res.sql)}
        assert referenced <= TABLES, referenced
        assert "sqlite_" not in res.sql and "pg_" not in res.sql and ";" not in res.sql
    else:
        assert res.message and res.rows == [] and res.sql == ""
        assert "for example" in res.message
    assert file_hash(demo) == before


def test_ordinary_english_is_not_mistaken_for_sql(engine) -> None:  # type: ignore[no-untyped-def]
    for q in (
        "How many accounts did we create in 2025?",
        "How many leads from cold call in 2025",
        "Select the top 5 accounts by annual revenue",
    ):
        assert engine.ask(q, now=NOW).understood, q
    # "drop" as English is no write attempt: the question is refused for the word it cannot answer
    # ("why ... drop" asks for a cause), never as SQL
    res = engine.ask("Why did revenue drop last quarter?", now=NOW)
    assert not res.understood and res.unknown == ["drop"] and "read-only" not in res.message


def test_refusals_say_why(engine) -> None:  # type: ignore[no-untyped-def]
    assert "read-only" in engine.ask("drop table lead").message
    assert "SQL" in engine.ask("select * from sqlite_master").message
    assert "too long" in engine.ask("revenue " * 1300).message
    msg = engine.ask("what is the weather in Paris").message
    assert "weather" in msg and "revenue" in msg


def test_sqlite_connection_is_read_only(demo: Path) -> None:
    before = file_hash(demo)
    ex = ReadOnlyExecutor(f"sqlite:///{demo}")
    for stmt in (
        "DELETE FROM opportunity",
        "CREATE TABLE evil (id INTEGER)",
        "UPDATE account SET name = 'x'",
        "INSERT INTO lead (id, company) VALUES (0, 'x')",
        "DROP TABLE campaign",
    ):
        with (
            pytest.raises(sa.exc.DatabaseError, match=r"not authorized|readonly|read-only|query_only|attempt to write"),
            ex.read_only_connection() as conn,
        ):
            conn.exec_driver_sql(stmt)
    with pytest.raises(ReportingError, match="only SELECT"):
        ex.run(sa.delete(sa.table("opportunity")))  # type: ignore[arg-type]
    with pytest.raises(ReportingError, match="only SELECT"):
        ex.run(sa.text("DELETE FROM opportunity"))  # type: ignore[arg-type]
    ex.close()
    assert file_hash(demo) == before


def test_missing_or_memory_sqlite_refused(tmp_path: Path) -> None:
    with pytest.raises(ReportingError, match="not found"):
        ReadOnlyExecutor(f"sqlite:///{tmp_path / 'nope.sqlite'}")
    with pytest.raises(ReportingError, match="in-memory"):
        ReadOnlyExecutor("sqlite://")
    assert not (tmp_path / "nope.sqlite").exists()


def test_row_cap_and_limit(demo: Path) -> None:
    eng = engine_for(f"sqlite:///{demo}", row_cap=7)
    res = eng.ask("show me all accounts", now=NOW, limit=100)
    assert len(res.rows) == 7 and res.summary["total_rows"] == 7
    res = eng.ask("show me all accounts", now=NOW, limit=3)
    assert len(res.rows) == 3
    eng.close()
    ex = ReadOnlyExecutor(f"sqlite:///{demo}", row_cap=5)
    out = ex.run(sa.select(sa.table("account", sa.column("id")).c.id))
    assert len(out.rows) == 5 and out.truncated
    ex.close()


def test_time_limit_sqlite(demo: Path) -> None:
    ex = ReadOnlyExecutor(f"sqlite:///{demo}", timeout_s=0.2)
    a, b, c = (sa.table("opportunity", sa.column("id")).alias(n) for n in ("a", "b", "c"))
    heavy = sa.select(sa.func.count()).select_from(a.join(b, sa.true()).join(c, sa.true()))
    with pytest.raises(ReportingError, match="time limit"):
        ex.run(heavy)
    assert ex.run(sa.select(sa.func.count()).select_from(a)).rows == [(5000,)]
    ex.close()


MALICIOUS = [
    Query(object="sqlite_master"),
    Query(object="opportunity", fields=["name; DROP TABLE x"]),
    Query(object="opportunity", filters=[Filter("amount", "; DROP TABLE x", 1)]),
    Query(object="opportunity", filters=[Filter("secret.password", "eq", "x")]),
    Query(object="opportunity", group_by=[GroupBy("account.owner.name")]),
    Query(object="opportunity", group_by=[GroupBy("amount", "month")]),
    Query(object="opportunity", group_by=[GroupBy("close_date", "century")]),
    Query(object="opportunity", aggregates=[Aggregate("sum", "name")]),
    Query(object="opportunity", aggregates=[Aggregate("sum", "amount", alias='x" FROM account; --')]),
    Query(object="opportunity", aggregates=[Aggregate("exec", "amount")]),
    Query(object="opportunity", aggregates=[Aggregate("metric", metric="case_count")]),
    Query(object="opportunity", aggregates=[Aggregate("metric", metric="drop")]),
    Query(object="opportunity", aggregates=[Aggregate("count")], order_by=[OrderBy("count; drop", "desc")]),
    Query(object="opportunity", order_by=[OrderBy("amount", "sideways")]),
    Query(object="opportunity", limit=-1),
    Query(object="opportunity", filters=[Filter("amount", "gt", float("nan"))]),
    Query(object="opportunity", filters=[Filter("amount", "gt", "1 OR 1=1")]),
    Query(object="opportunity", filters=[Filter("close_date", "gt", "2025-13-45")]),
    Query(object="opportunity", filters=[Filter("stage", "in", list(range(1000)))]),
    Query(object="opportunity", filters=[Filter("stage", "eq", "x" * 500)]),
    Query(object="opportunity", time_range=TimeRange("DROP", "2025-01-01")),
    Query(object="opportunity", time_range=TimeRange("2025-02-01", "2025-01-01")),
    Query(
        object="campaign",
        aggregates=[Aggregate("count")],
        time_range=TimeRange("2025-01-01", "2025-12-31", field="budget"),
    ),
]


@pytest.mark.parametrize("query", MALICIOUS, ids=[f"ast{i}" for i in range(len(MALICIOUS))])
def test_malicious_asts_rejected(engine, demo: Path, query: Query) -> None:  # type: ignore[no-untyped-def]
    before = file_hash(demo)
    with pytest.raises(ValidationError) as info:
        engine.run_query(query)
    assert info.value.errors and info.value.errors[0].field
    assert file_hash(demo) == before


def test_injection_in_values_stays_a_bound_parameter(engine, demo: Path) -> None:  # type: ignore[no-untyped-def]
    evil = "closed_won' OR '1'='1"
    res = engine.run_query(
        Query(object="opportunity", filters=[Filter("stage", "eq", evil)], aggregates=[Aggregate("count")])
    )
    assert res.rows == [{"count": 0}]
    assert evil in res.params.values() and evil not in res.sql
    res = engine.run_query(
        Query(object="account", filters=[Filter("name", "contains", "%")], aggregates=[Aggregate("count")])
    )
    assert res.rows == [{"count": 0}]  # '%' is escaped, not a wildcard


def test_context_filters_and_tenant(demo: Path, tmp_path: Path) -> None:
    eng = engine_for(f"sqlite:///{demo}")
    con = sqlite3.connect(f"file:{demo}?mode=ro", uri=True)
    emea = con.execute(
        "SELECT SUM(o.amount) FROM opportunity o JOIN account a ON o.account_id = a.id "
        "WHERE o.stage = 'closed_won' AND a.region = 'EMEA'"
    ).fetchone()[0]
    res = eng.ask("total revenue", context={"filters": {"region": "EMEA"}})
    assert res.rows[0]["revenue"] == pytest.approx(emea)
    with pytest.raises(ValidationError, match="context"):
        eng.ask("total revenue", context={"filters": {"password": "x"}})
    eng.close()
    cat = tmp_path / "tenant.json"
    cat.write_text(json.dumps({"tenant_column": "region"}))
    eng = engine_for(f"sqlite:///{demo}", catalogue=str(cat))
    n = con.execute("SELECT COUNT(*) FROM account WHERE region = 'APAC'").fetchone()[0]
    assert eng.ask("how many accounts", context={"tenant": "APAC"}).rows == [{"count": n}]
    assert eng.ask("total revenue", context={"tenant": "EMEA"}).rows[0]["revenue"] == pytest.approx(emea)
    # an object without the tenant column is refused, never answered across tenants
    assert not eng.ask("how many campaigns", context={"tenant": "EMEA"}).understood
    eng.close()
    con.close()


def test_huge_and_scientific_numbers_never_leak_or_misread(engine, demo: Path) -> None:  # type: ignore[no-untyped-def]
    """Review regressions: a 25-digit amount raised a bare OverflowError from the SQLite driver, and
    "$1e309" was read as "over $1" (the exponent silently dropped)."""
    before = file_hash(demo)
    res = engine.ask("deals over 1,000,000,000,000,000,000,000,000", now=NOW)
    assert res.understood and res.rows == []  # no deal is that large; compared as a float
    res = engine.run_query(
        Query(object="opportunity", filters=[Filter("amount", "gt", 10**30)], aggregates=[Aggregate("count")])
    )
    assert res.rows == [{"count": 0}]
    with pytest.raises(ValidationError, match="finite number"):
        engine.run_query(Query(object="opportunity", filters=[Filter("amount", "gt", 10**400)]))
    for question in ("opportunities over $1e309", "deals over 1.5e6"):
        res = engine.ask(question, now=NOW)
        assert not res.understood, (question, res.query)
    res = engine.ask("deals over 50k.", now=NOW)
    assert res.understood and res.query.filters == [Filter("amount", "gt", 50000)]
    assert file_hash(demo) == before


@pytest.mark.parametrize(
    "question",
    [
        "revenue not in EMEA",  # answered EMEA's revenue: the opposite of what was asked
        "revenue excluding EMEA",
        "deals not closed",
        "revenue last 0 days",  # answered all-time revenue
        "revenue between 2025-13-45 and 2025-02-30",  # answered 2025
        "top -5 accounts by employees",
    ],
)
def test_unmapped_negations_and_numbers_are_refused_not_dropped(engine, question: str) -> None:  # type: ignore[no-untyped-def]
    """Review regression: these used to be answered with the negation/number silently left out."""
    res = engine.ask(question, now=NOW)
    assert not res.understood and res.rows == [] and "guess" in res.message, (question, res.query)


def test_a_single_iso_day_is_that_day_not_its_year(engine) -> None:  # type: ignore[no-untyped-def]
    """Review regression: "deals closed on 2025-03-01" was answered for the whole of 2025."""
    res = engine.ask("deals closed on 2025-03-01", now=NOW)
    assert res.understood and res.query.time_range.start == res.query.time_range.end == "2025-03-01"
    assert res.query.time_range.field == "close_date"
    assert all(r["close_date"] == "2025-03-01" for r in res.rows)


@pytest.mark.parametrize(
    "question",
    ["revenue since 0001-01-01 vs previous period", "revenue from 9999-12-01 to 9999-12-31 vs last year"],
)
def test_dates_at_the_calendar_limits_are_refused_not_crashing(engine, question: str) -> None:  # type: ignore[no-untyped-def]
    """Review regression: date arithmetic past year 1 / 9999 leaked OverflowError / ValueError."""
    res = engine.ask(question, now=NOW)
    assert not res.understood and "dates could not be worked out" in res.message


@pytest.mark.parametrize("now", ["0001-01-01", "9999-12-31"])
def test_now_far_from_today_is_a_validation_error_naming_now(engine, now: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="now"):
        engine.ask("revenue last 30 days", now=now)


def test_truncated_says_when_the_cap_cut_the_answer(engine) -> None:  # type: ignore[no-untyped-def]
    """Review regression: LIMIT was exactly the cap, so ``summary.truncated`` could never be True and
    "Highest month" was stated from a cut list as if it were the whole answer."""
    cut = engine.ask("revenue by month", now=NOW, limit=10)
    assert len(cut.rows) == 10 and cut.summary["truncated"] is True
    assert "of the rows shown" in cut.narrative and "Only the first 10 rows" in cut.narrative
    whole = engine.ask("revenue by region", now=NOW, limit=10)
    assert whole.summary["truncated"] is False and len(whole.rows) < 10
    asked = engine.ask("top 5 accounts by employees", now=NOW, limit=10)
    assert len(asked.rows) == 5 and asked.summary["truncated"] is False  # the question's own limit


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:hunter2@127.0.0.1:notaport/db",
        "nosuchdialect://u:hunter2@h/db",
        "hunter2 is not a url",
        "postgresql+nodriver://u:hunter2@h/db",
    ],
)
def test_bad_database_urls_are_reporting_errors_without_the_password(url: str) -> None:
    """Review regression: these escaped as ValueError / ArgumentError / NoSuchModuleError tracebacks."""
    with pytest.raises(ReportingError, match=r"reporting\.database_url") as info:
        ReadOnlyExecutor(url)
    assert "hunter2" not in str(info.value)
