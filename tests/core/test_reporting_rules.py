"""The rules translator, periods, narrative/visualization/follow-ups, summaries and the AST schema,
checked on the real demo database (SQLite) against hand-written SQL where a number is involved."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from support.reporting import engine_for, make_demo_sqlite

from hotcrm_ai.converter import unstructure
from hotcrm_ai.errors import ConfigError, ValidationError
from hotcrm_ai.reporting import periods
from hotcrm_ai.reporting.ast import parse_query, query_json_schema
from hotcrm_ai.reporting.catalogue import Catalogue

NOW = "2026-11-25"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_sqlite(tmp_path_factory.mktemp("reporting-rules"))


@pytest.fixture(scope="module")
def engine(demo: Path):  # type: ignore[no-untyped-def]
    eng = engine_for(f"sqlite:///{demo}")
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def db(demo: Path):  # type: ignore[no-untyped-def]
    con = sqlite3.connect(f"file:{demo}?mode=ro", uri=True)
    yield con
    con.close()


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("last quarter", "2026-07-01", "2026-09-30"),
        ("this month", "2026-11-01", "2026-11-30"),
        ("last 30 days", "2026-10-26", "2026-11-25"),
        ("q3 2025", "2025-07-01", "2025-09-30"),
        ("2025 q2", "2025-04-01", "2025-06-30"),
        ("in 2025", "2025-01-01", "2025-12-31"),
        ("march 2025", "2025-03-01", "2025-03-31"),
        ("the first quarter of 2025", "2025-01-01", "2025-03-31"),
        ("h2 2025", "2025-07-01", "2025-12-31"),
        ("ytd", "2026-01-01", "2026-11-25"),
        ("last week", "2026-11-16", "2026-11-22"),
        ("yesterday", "2026-11-24", "2026-11-24"),
        ("between 2025-02-01 and 2025-01-01", "2025-01-01", "2025-02-01"),
        ("last month", "2026-10-01", "2026-10-31"),
        ("last year", "2025-01-01", "2025-12-31"),
    ],
)
def test_periods(text: str, start: str, end: str) -> None:
    p, rest = periods.find_period(f" {text} ", date(2026, 11, 25))
    assert p is not None and (p.start.isoformat(), p.end.isoformat()) == (start, end)
    assert rest.strip() == ""


def test_last_month_in_january_and_comparisons() -> None:
    p, _ = periods.find_period("last month", date(2026, 1, 15))
    assert (p.start, p.end) == (date(2025, 12, 1), date(2025, 12, 31))  # type: ignore[union-attr]
    q = periods.calendar("quarter", date(2026, 2, 1))
    assert periods.previous_period(q).start == date(2025, 10, 1)
    assert periods.year_over_year(q).start == date(2025, 1, 1)
    feb = periods.calendar("month", date(2024, 2, 10))
    assert periods.year_over_year(feb).end == date(2023, 2, 28)
    span = periods.Period(date(2026, 10, 26), date(2026, 11, 25), "last 30 days")
    prev = periods.previous_period(span)
    assert (prev.start, prev.end) == (date(2026, 9, 25), date(2026, 10, 25))


def test_original_bugs_fixed(engine) -> None:  # type: ignore[no-untyped-def]
    # "accounts"/"country" contain "count": not an aggregate here
    res = engine.ask("List accounts in Germany", now=NOW)
    assert res.query.aggregates == [] and res.query.filters[0].value == "Germany"
    # "summary" contains "sum": a count by priority, not a sum
    res = engine.ask("case summary by priority", now=NOW)
    assert [a.func for a in res.query.aggregates] == ["count"]
    # year over year: the main period is this year, the comparison last year (the original used "last year" for both)
    res = engine.ask("Revenue vs last year", now=NOW)
    assert (res.query.time_range.start, res.query.comparison.start) == ("2026-01-01", "2025-01-01")
    assert res.comparison is not None and res.comparison["aggregates"]["revenue"] > 0
    # previous period is computed
    res = engine.ask("Revenue last quarter vs previous period", now=NOW)
    assert (res.query.comparison.start, res.query.comparison.end) == ("2026-04-01", "2026-06-30")
    # top N is read
    assert engine.ask("top 7 accounts by annual revenue", now=NOW).query.limit == 7


def test_synonyms_values_and_filters(engine, db) -> None:  # type: ignore[no-untyped-def]
    won = db.execute(
        "SELECT SUM(amount) FROM opportunity WHERE stage = 'closed_won' "
        "AND close_date BETWEEN '2025-01-01' AND '2025-12-31'"
    ).fetchone()[0]
    for q in ("sales in 2025", "bookings in 2025", "revenue in 2025", "What was our total revenue in 2025?"):
        assert engine.ask(q, now=NOW).rows[0]["revenue"] == pytest.approx(won), q
    res = engine.ask("How many high priority cases for the technology industry in EMEA", now=NOW)
    assert {(f.field, f.value) for f in res.query.filters} == {
        ("priority", "high"),
        ("industry", "Technology"),
        ("region", "EMEA"),
    }
    n = db.execute(
        "SELECT COUNT(*) FROM \"case\" c JOIN account a ON c.account_id = a.id WHERE c.priority = 'high' "
        "AND a.industry = 'Technology' AND a.region = 'EMEA'"
    ).fetchone()[0]
    assert res.rows == [{"count": n}]
    res = engine.ask("deals over $100k", now=NOW)
    assert res.query.filters[0].op == "gt" and res.query.filters[0].value == 100000


def test_summary_is_not_a_sum_of_averages(engine, db) -> None:  # type: ignore[no-untyped-def]
    res = engine.ask("average deal size by region", now=NOW)
    overall = db.execute("SELECT AVG(amount) FROM opportunity WHERE stage = 'closed_won'").fetchone()[0]
    assert res.summary["aggregates"]["avg_deal_size"] == pytest.approx(overall)
    assert res.summary["aggregates"]["avg_deal_size"] < sum(r["avg_deal_size"] for r in res.rows)
    res = engine.ask("win rate by region", now=NOW)
    won, closed = db.execute(
        "SELECT SUM(stage = 'closed_won'), COUNT(*) FROM opportunity WHERE stage IN ('closed_won', 'closed_lost')"
    ).fetchone()
    assert res.summary["aggregates"]["win_rate"] == pytest.approx(won / closed)
    res = engine.ask("top 2 regions by revenue", now=NOW)
    assert len(res.rows) == 2 and res.summary["aggregates"]["revenue"] > sum(r["revenue"] for r in res.rows)


def test_not_understood_is_explicit(engine) -> None:  # type: ignore[no-untyped-def]
    for q in (
        "What is the weather in Paris?",
        "total revenue for Acme",
        "deals by reason",
        "show me the passwords of users",
    ):
        res = engine.ask(q, now=NOW)
        assert not res.understood, q
        assert res.rows == [] and res.confidence == 0 and "for example" in res.message
    assert "acme" in engine.ask("total revenue for Acme").message


def test_narrative_visualization_follow_ups_confidence(engine) -> None:  # type: ignore[no-untyped-def]
    res = engine.ask("Revenue by region in 2025", now=NOW)
    top = max(res.rows, key=lambda r: r["revenue"])
    assert res.narrative.startswith(f"Showing {len(res.rows)} results for 2025.")
    assert f"Top region: {top['region']}" in res.narrative
    assert res.visualization == {"type": "bar_chart", "config": {"x_axis": "region", "y_axis": "revenue"}}
    assert any(f.endswith("vs last year") for f in res.follow_ups) and 1 <= len(res.follow_ups) <= 4
    assert engine.ask("Revenue by month in 2025", now=NOW).visualization["type"] == "line_chart"
    assert engine.ask("Revenue by region and industry", now=NOW).visualization["type"] == "heatmap"
    assert engine.ask("Total revenue", now=NOW).visualization == {"type": "metric", "config": {"value": "revenue"}}
    assert engine.ask("list accounts in Germany", now=NOW).visualization["type"] == "table"
    assert any("deal" in f for f in engine.ask("Total revenue", now=NOW).follow_ups)
    assert any("resolution" in f for f in engine.ask("How many tickets by priority", now=NOW).follow_ups)
    empty = engine.ask("revenue in 2019", now=NOW)
    assert empty.narrative.startswith('No data found for "revenue in 2019" in the 2019 period.')
    assert engine.ask("Revenue by region in 2025", now=NOW, narrative=False).narrative == ""
    high = engine.ask("Show me Q3 2025 revenue by region vs last year", now=NOW).confidence
    low = engine.ask("Revenue", now=NOW).confidence
    assert 10 <= low < high <= 95


def test_columns_labels_and_types(engine) -> None:  # type: ignore[no-untyped-def]
    res = engine.ask("win rate by rep in 2025", now=NOW)
    cols = {c.name: (c.type, c.label) for c in res.columns}
    assert cols == {"owner": ("string", "Owner"), "win_rate": ("percent", "Win Rate")}
    assert all(set(r) == set(cols) for r in res.rows)
    res = engine.ask("revenue by region", now=NOW)
    assert {c.name: c.type for c in res.columns} == {"region": "string", "revenue": "currency"}


def test_ask_argument_validation(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="limit"):
        engine.ask("revenue", limit=0)
    with pytest.raises(ValidationError, match="now"):
        engine.ask("revenue", now="yesterday-ish")
    with pytest.raises(ValidationError, match="question"):
        engine.ask(42)  # type: ignore[arg-type]
    assert engine.ask("revenue in 2025", now=date(2026, 1, 1)).understood


def test_query_json_schema_and_round_trip(engine) -> None:  # type: ignore[no-untyped-def]
    schema = query_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    res = engine.ask("Show me Q3 2025 revenue by region vs last year", now=NOW)
    data = unstructure(res.query)
    jsonschema.validate(data, schema)
    assert parse_query(json.loads(json.dumps(data))) == res.query
    for bad, where in (
        ({**data, "limit": "10"}, "limit"),
        ({**data, "filters": [{"field": "x", "value": {"a": 1}}]}, "filters[0].value"),
        ({"fields": []}, "object"),
        ({**data, "group_by": [{"field": "region", "bucket": None, "sql": "x"}]}, "group_by[0].sql"),
    ):
        with pytest.raises(ValidationError, match=__import__("re").escape(where)):
            parse_query(bad)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "extra": 1}, schema)
    out = json.loads(json.dumps(unstructure(res), default=str))
    assert set(out) >= {
        "query",
        "sql",
        "params",
        "columns",
        "rows",
        "summary",
        "narrative",
        "visualization",
        "follow_ups",
        "confidence",
    }


BIG_DEALS = {
    "object": "opportunity",
    "label": "Big Deals",
    "type": "number",
    "kind": "count",
    "where": [{"field": "amount", "op": "gt", "value": 500000}],
    "date_field": "created_at",
    "synonyms": ["big deals", "whales"],
}


def big_deals_catalogue(tmp_path: Path) -> Path:
    """A catalogue extension adding one named metric, as a deployment's config would."""
    extra = tmp_path / "cat.json"
    extra.write_text(json.dumps({"metrics": {"big_deals": BIG_DEALS}}))
    return extra


def test_catalogue_is_extendable_and_checked(tmp_path: Path) -> None:
    extra = big_deals_catalogue(tmp_path)
    cat = Catalogue.load(extra)
    assert "big_deals" in cat.metrics and "revenue" in cat.metrics
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"metrics": {"x": {"object": "nowhere", "kind": "sum"}}}))
    with pytest.raises(ConfigError, match=r"metrics\.x\.object"):
        Catalogue.load(bad)
    with pytest.raises(ConfigError, match=r"reporting\.catalogue"):
        Catalogue.load(tmp_path / "missing.json")


def test_custom_metric_from_config(demo: Path, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    extra = big_deals_catalogue(tmp_path)
    eng = engine_for(f"sqlite:///{demo}", catalogue=str(extra))
    n = db.execute(
        "SELECT COUNT(*) FROM opportunity WHERE amount > 500000 "
        "AND created_at >= '2025-01-01' AND created_at < '2026-01-01'"
    ).fetchone()[0]
    assert eng.ask("how many whales in 2025", now=NOW).rows == [{"big_deals": n}]
    eng.close()


def test_concurrent_questions_agree(engine) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    questions = ["Revenue by region in 2025", "Win rate by rep last quarter", "How many cases by priority"] * 6
    expected = {q: engine.ask(q, now=NOW).rows for q in set(questions)}
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda q: (q, engine.ask(q, now=NOW).rows), questions))
    assert all(rows == expected[q] for q, rows in results)


def test_currency_shows_cents_as_two_digits() -> None:
    from hotcrm_ai.reporting.narrative import fmt

    assert fmt(4067005.2, "currency") == "$4,067,005.20"
    assert fmt(500000, "currency") == "$500,000"
    assert fmt(-12.345, "currency") == "-$12.35"
