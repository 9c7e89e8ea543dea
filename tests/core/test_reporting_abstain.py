"""Abstention: a question with a word the catalogue cannot account for is never answered as if it had
been understood. It is refused with the words named, up to three answerable rephrasings, exit code 3;
misspelt catalogue words are corrected and the correction is shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from support.reporting import engine_for, make_demo_sqlite
from support.reporting_questions import MUST_REFUSE, NOW

from hotcrm_ai.cli import reporting as reporting_cli
from hotcrm_ai.cli.context import CLIContext
from hotcrm_ai.config import ReportingSettings, Settings
from hotcrm_ai.reporting.rephrase import corrections
from hotcrm_ai.reporting.vocabulary import STOPWORDS


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_sqlite(tmp_path_factory.mktemp("reporting-abstain"))


@pytest.fixture(scope="module")
def engine(demo: Path) -> Any:
    eng = engine_for(f"sqlite:///{demo}")
    yield eng
    eng.close()


@pytest.mark.parametrize("question", MUST_REFUSE)
def test_must_refuse_questions_name_the_words_and_offer_answerable_rephrasings(engine: Any, question: str) -> None:
    res = engine.ask(question, now=NOW)
    assert not res.understood and res.rows == [] and res.sql == ""
    assert res.unknown, "the refusal names the words it could not map"
    for word in res.unknown:
        assert word in res.message
    assert 1 <= len(res.suggestions) <= 3
    for offer in res.suggestions:  # every rephrasing offered is itself answered
        assert engine.ask(offer, now=NOW).understood, offer


def test_the_issue_examples_are_answered_right_or_refused(engine: Any) -> None:
    """ "How many leads did we convert last month?" counts conversions by conversion date (it used to
    count leads created that month); "open cases" are every not-closed status."""
    res = engine.ask("How many leads did we convert last month?", now=NOW)
    assert res.understood and res.query.time_range.field == "converted_at"
    assert {"field": "status", "op": "eq", "value": "converted"} in [
        {"field": f.field, "op": f.op, "value": f.value} for f in res.query.filters
    ]
    res = engine.ask("Open cases by priority", now=NOW)
    assert [f.value for f in res.query.filters] == [["open", "in_progress"]]
    res = engine.ask("What is our average sales cycle length", now=NOW)
    assert res.understood and res.query.aggregates[0].metric == "avg_sales_cycle_days"


def test_a_partly_understood_question_is_not_answered(engine: Any) -> None:
    res = engine.ask("revenue by region for our strategic accounts", now=NOW)
    assert not res.understood and "strategic" in res.unknown


def test_fillers_are_documented_words_that_never_change_an_answer() -> None:
    for word in ("show", "me", "please", "our", "what", "list"):
        assert word in STOPWORDS
    for word in ("convert", "churn", "median", "forecast", "resolved", "closed"):
        assert word not in STOPWORDS


def test_typos_are_corrected_against_the_catalogue_and_shown(engine: Any) -> None:
    res = engine.ask("revnue by regoin last quater", now=NOW)
    assert res.understood
    assert res.corrections == {"revnue": "revenue", "regoin": "region", "quater": "quarter"}
    assert "Read 'revnue' as 'revenue'." in res.message
    assert res.query.time_range.start == "2026-07-01" and res.query.group_by[0].field == "region"


def test_corrections_never_turn_a_real_word_into_another_measure(engine: Any) -> None:
    cat = engine.catalogue
    assert corrections(["median", "employee", "discount", "churn"], cat) == {}
    assert corrections(["pipline", "oportunities", "averge"], cat) == {
        "pipline": "pipeline",
        "oportunities": "opportunities",
        "averge": "average",
    }


def test_cli_exit_code_3_names_the_words(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotcrm_ai.cloud import AICloud

    monkeypatch.setenv("HOTCRM_AI_HOME", str(tmp_path / "home"))

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = c = CLIContext(config=None, json_output=False, debug=False)
        c._cloud = AICloud(
            Settings(reporting=ReportingSettings(database_url=f"sqlite:///{demo}")), load_entrypoints=False
        )
        ctx.call_on_close(c.close)

    reporting_cli.register(root)
    runner = CliRunner()
    out = runner.invoke(root, ["ask", "How many leads did we churn last month?", "--now", NOW, "--json"])
    assert out.exit_code == 3
    data = json.loads(out.output)
    assert data["understood"] is False and data["unknown"] == ["churn"] and 1 <= len(data["suggestions"]) <= 3
    out = runner.invoke(root, ["ask", "Q3 2026 revenue compared to Q3 2025", "--now", NOW, "--json"])
    assert out.exit_code == 0
    data = json.loads(out.output)
    cmp_ = data["comparison"]
    assert cmp_["start"] == "2025-07-01" and cmp_["end"] == "2025-09-30"
    cur, prev = data["summary"]["aggregates"]["revenue"], cmp_["aggregates"]["revenue"]
    assert cmp_["growth"]["revenue"] == pytest.approx((cur - prev) / prev)
    assert data["query_call"]["metrics"] == ["revenue"]
