"""The governed metrics API: ``ai.query(...)``, ``hotcrm-ai query`` and ``hotcrm-ai metrics``, checked
against hand-written SQL on the demo database; an answered question's ``query_call`` reproduces it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from support.reporting import file_hash, make_demo_sqlite
from support.reporting_questions import NOW

from hotcrm_ai.cli import reporting as reporting_cli
from hotcrm_ai.cli.context import CLIContext
from hotcrm_ai.cloud import AICloud
from hotcrm_ai.config import ReportingSettings, Settings
from hotcrm_ai.errors import ValidationError


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_sqlite(tmp_path_factory.mktemp("reporting-metrics"))


@pytest.fixture(scope="module")
def ai(demo: Path) -> Any:
    cloud = AICloud(Settings(reporting=ReportingSettings(database_url=f"sqlite:///{demo}")), load_entrypoints=False)
    yield cloud
    cloud.close()


def _sql(demo: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(f"file:{demo}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_query_revenue_by_region_last_quarter(ai: Any, demo: Path) -> None:
    res = ai.query(["revenue"], group_by=["region"], time={"range": "last quarter"}, now=NOW)
    want = dict(
        _sql(
            demo,
            "SELECT a.region, SUM(o.amount) FROM opportunity o JOIN account a ON o.account_id = a.id "
            "WHERE o.stage = 'closed_won' AND o.close_date BETWEEN '2026-07-01' AND '2026-09-30' GROUP BY a.region",
        )
    )
    assert {r["region"]: r["revenue"] for r in res.rows} == pytest.approx(want)
    assert res.query_call == {
        "metrics": ["revenue"],
        "group_by": ["region"],
        "time": {"range": ["2026-07-01", "2026-09-30"]},
    }


def test_query_grain_filters_order_limit_and_comparison(ai: Any, demo: Path) -> None:
    res = ai.query(
        ["case_count", "avg_csat"],
        group_by=["priority"],
        filters=[{"field": "region", "op": "eq", "value": "EMEA"}],
        order_by=["-case_count"],
        limit=2,
        time={"range": "2025", "compare": "year_over_year"},
        now=NOW,
    )
    want = _sql(
        demo,
        'SELECT c.priority, COUNT(*) n FROM "case" c JOIN account a ON c.account_id = a.id WHERE a.region = '
        "'EMEA' AND c.created_at >= '2025-01-01' AND c.created_at < '2026-01-01' GROUP BY c.priority "
        "ORDER BY n DESC, c.priority LIMIT 2",
    )
    assert [(r["priority"], r["case_count"]) for r in res.rows] == want
    assert res.comparison["start"] == "2024-01-01" and res.comparison["type"] == "year_over_year"
    monthly = ai.query("revenue", time={"range": "2025", "grain": "month"}, now=NOW)
    assert len(monthly.rows) == 12 and monthly.query.group_by[0].bucket == "month"


def test_plain_aggregates_and_several_measures(ai: Any, demo: Path) -> None:
    res = ai.query(["sum:campaign.actual_cost", "sum:campaign.budget"], group_by=["type"])
    want = {
        t: (c, b) for t, c, b in _sql(demo, "SELECT type, SUM(actual_cost), SUM(budget) FROM campaign GROUP BY type")
    }
    got = {r["type"]: (r["sum_actual_cost"], r["sum_budget"]) for r in res.rows}
    assert sorted(got) == sorted(want)
    for t, (cost, budget) in want.items():
        assert got[t] == (pytest.approx(cost), pytest.approx(budget))
    assert ai.query("count:case").rows == [{"count": _sql(demo, 'SELECT COUNT(*) FROM "case"')[0][0]}]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"metrics": ["revenu"]}, "metrics[0]"),
        ({"metrics": ["revenue", "case_count"]}, "metrics"),
        ({"metrics": ["revenue"], "group_by": ["password"]}, "group_by[0]"),
        ({"metrics": ["revenue"], "time": {"range": "the other day"}}, "time.range"),
        ({"metrics": ["revenue"], "time": {"grain": "fortnight"}}, "time.grain"),
        ({"metrics": ["revenue"], "filters": [{"field": "region", "op": "like", "value": "%"}]}, "filters[0].op"),
        ({"metrics": ["revenue"], "limit": 0}, "limit"),
    ],
)
def test_bad_arguments_are_typed_errors_naming_the_field(ai: Any, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        ai.query(**kwargs)
    assert field in str(info.value)


def test_ask_results_pin_to_the_same_query(ai: Any) -> None:
    for question in ("Win rate by rep in 2025", "Revenue by month in 2025", "Campaign spend vs budget by type"):
        asked = ai.ask(question, now=NOW)
        assert asked.understood and asked.query_call is not None
        pinned = ai.query(**asked.query_call, now=NOW)
        assert pinned.rows == asked.rows, question


def test_cli_query_and_metrics(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTCRM_AI_HOME", str(tmp_path / "home"))

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = c = CLIContext(config=None, json_output=False, debug=False)
        c._cloud = AICloud(Settings(), load_entrypoints=False)
        ctx.call_on_close(c.close)

    reporting_cli.register(root)
    runner = CliRunner()
    before = file_hash(demo)
    db = f"sqlite:///{demo}"
    args = ["query", "--metric", "revenue", "--by", "region", "--period", "last quarter", "--db", db, "--now", NOW]
    out = runner.invoke(root, args)
    assert out.exit_code == 0 and "North America" in out.output and "ai.query(metrics=" in out.output
    out = runner.invoke(root, [*args, "--where", "region=EMEA", "--json"])
    data = json.loads(out.output)
    assert [r["region"] for r in data["rows"]] == ["EMEA"]
    out = runner.invoke(root, ["metrics", "--json"])
    info = json.loads(out.output)
    assert info["metrics"]["revenue"]["date_field"] == "close_date"
    assert "region" in info["dimensions"]["opportunity"]
    assert {"verbs": "convert\\w*", "field": "converted_at"} in info["event_dates"]["lead"]
    assert file_hash(demo) == before


def test_share_aggregates_are_validated_and_exact(ai: Any, demo: Path) -> None:
    from hotcrm_ai.reporting.ast import Aggregate, Filter, Query, parse_query, query_json_schema

    emea = Filter("region", "eq", "EMEA")
    res = ai.reporting.run_query(
        Query(object="opportunity", aggregates=[Aggregate("share", metric="revenue", alias="s", where=[emea])])
    )
    want = _sql(
        demo,
        "SELECT SUM(CASE WHEN a.region = 'EMEA' THEN o.amount ELSE 0 END) * 1.0 / SUM(o.amount) FROM opportunity o "
        "JOIN account a ON o.account_id = a.id WHERE o.stage = 'closed_won'",
    )[0][0]
    assert res.rows == [{"s": pytest.approx(want)}] and res.columns[0].type == "percent"
    bad = [
        Aggregate("share", metric="revenue", where=[]),  # no segment
        Aggregate("share", metric="win_rate", where=[emea]),  # a share of a ratio means nothing
        Aggregate("share", field="name", where=[emea]),  # not numeric
        Aggregate("sum", field="amount", where=[emea]),  # a segment only on a share
        Aggregate("share", where=[Filter("password", "eq", "x")]),  # not in the catalogue
    ]
    for agg in bad:
        with pytest.raises(ValidationError, match="aggregates"):
            ai.reporting.run_query(Query(object="opportunity", aggregates=[agg]))
    data = {"object": "case", "aggregates": [{"func": "share", "where": [{"field": "priority", "value": "critical"}]}]}
    parsed = parse_query(data)
    assert parsed.aggregates[0].where == [Filter("priority", "eq", "critical")]
    item = query_json_schema()["properties"]["aggregates"]["items"]
    assert "where" in item["required"] and "share" in item["properties"]["func"]["enum"]
