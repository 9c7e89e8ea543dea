"""The ``llm`` translator with the real OpenAI SDK against the local stand-in server: good, malformed
and malicious ASTs. Whatever the model answers goes through core's validation; nothing it writes runs
as SQL, and the demo database stays unchanged."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.openai_standin import CHAT, OpenAIStandIn
from support.reporting import RULES, file_hash, make_demo_sqlite

from hotcrm_ai.config import ReportingSettings
from hotcrm_ai.errors import ConfigError, ReportingError
from hotcrm_ai.reporting.engine import ReportingEngine
from hotcrm_ai_openai.translator import LLMTranslator, translator_spec

KEY = "sk-test-llm-translator-0123456789"
NOW = "2026-11-25"
GOOD = {
    "object": "opportunity",
    "fields": [],
    "filters": [{"field": "region", "op": "eq", "value": "EMEA"}],
    "group_by": [{"field": "industry", "bucket": None}],
    "aggregates": [{"func": "metric", "field": None, "metric": "revenue", "alias": None}],
    "order_by": [],
    "limit": None,
    "time_range": {"start": "2025-01-01", "end": "2025-12-31", "field": None, "label": "2025"},
    "comparison": None,
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_sqlite(tmp_path_factory.mktemp("llm-translator"))


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(api_key=KEY) as s:
        yield s


@pytest.fixture()
def engine(demo: Path, server: OpenAIStandIn) -> Iterator[ReportingEngine]:
    server.reset()
    options = {"llm_base_url": server.base_url, "llm_api_key": KEY, "llm_model": "gpt-4o-mini"}
    eng = ReportingEngine(
        ReportingSettings(database_url=f"sqlite:///{demo}", translator="llm", options=options),
        {**RULES, "llm": translator_spec()},
    )
    yield eng
    eng.close()


def _answer(query: Any, understood: bool = True, reason: str = "") -> str:
    return json.dumps({"understood": understood, "reason": reason, "query": query})


def test_good_ast_is_run_and_matches_hand_sql(engine: ReportingEngine, server: OpenAIStandIn, demo: Path) -> None:
    server.on_chat(lambda body: _answer(GOOD))
    res = engine.ask("Revenue by industry in EMEA in 2025", now=NOW)
    assert res.understood and res.translator == "llm"
    con = sqlite3.connect(f"file:{demo}?mode=ro", uri=True)
    want = dict(
        con.execute(
            "SELECT a.industry, SUM(o.amount) FROM opportunity o JOIN account a ON o.account_id = a.id "
            "WHERE o.stage = 'closed_won' AND a.region = 'EMEA' "
            "AND o.close_date BETWEEN '2025-01-01' AND '2025-12-31' GROUP BY a.industry"
        ).fetchall()
    )
    con.close()
    assert {r["industry"]: r["revenue"] for r in res.rows} == pytest.approx(want)
    # what went over the wire: the question, the catalogue (with data values), a strict JSON schema
    body = server.requests_to(CHAT)[-1].body
    assert body["messages"][-1]["content"] == "Revenue by industry in EMEA in 2025"
    assert '"revenue"' in body["messages"][0]["content"] and "EMEA" in body["messages"][0]["content"]
    assert NOW in body["messages"][0]["content"]
    rf = body["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["strict"] is True
    assert rf["json_schema"]["schema"]["properties"]["query"]["anyOf"][0]["properties"]["object"] == {"type": "string"}


@pytest.mark.parametrize(
    ("reply", "expect"),
    [
        ("this is not json", "not valid JSON"),
        ('{"understood": true}', "rejected"),
        ('["a list"]', "expected shape"),
        (_answer(None, understood=False, reason="no weather data in the CRM"), "no weather data"),
        (_answer({**GOOD, "limit": "ten"}), "limit"),
        (_answer({**GOOD, "extra_sql": "DROP TABLE account"}), "extra_sql"),
        (_answer({**GOOD, "filters": [{"field": "region", "op": "eq", "value": {"$ne": 1}}]}), "filters[0].value"),
    ],
)
def test_malformed_answers_are_not_understood(
    engine: ReportingEngine, server: OpenAIStandIn, reply: str, expect: str
) -> None:
    server.on_chat(lambda body: reply)
    res = engine.ask("anything", now=NOW)
    assert not res.understood and expect in res.message and res.sql == "" and res.rows == []


MALICIOUS = [
    {**GOOD, "object": "sqlite_master"},
    {**GOOD, "object": "user; DROP TABLE account"},
    {**GOOD, "fields": ["password"], "aggregates": []},
    {**GOOD, "filters": [{"field": "region) OR 1=1 --", "op": "eq", "value": "EMEA"}]},
    {**GOOD, "filters": [{"field": "region", "op": "= 'EMEA' OR 1=1 --", "value": "EMEA"}]},
    {**GOOD, "group_by": [{"field": "account.owner.name", "bucket": None}]},
    {**GOOD, "group_by": [{"field": "pg_catalog.pg_tables", "bucket": None}]},
    {
        **GOOD,
        "aggregates": [{"func": "metric", "field": None, "metric": "revenue", "alias": 'x"; DELETE FROM account; --'}],
    },
    {**GOOD, "aggregates": [{"func": "sum", "field": "(SELECT 1)", "metric": None, "alias": None}]},
    {**GOOD, "order_by": [{"field": "revenue DESC; DROP TABLE lead", "direction": "desc"}]},
    {**GOOD, "time_range": {"start": "2025-01-01'; --", "end": "2025-12-31", "field": None, "label": ""}},
    {**GOOD, "time_range": {"start": "2025-01-01", "end": "2025-12-31", "field": "region", "label": ""}},
]


@pytest.mark.parametrize("query", MALICIOUS, ids=[f"malicious{i}" for i in range(len(MALICIOUS))])
def test_malicious_asts_are_refused(engine: ReportingEngine, server: OpenAIStandIn, demo: Path, query: dict) -> None:
    before = file_hash(demo)
    server.on_chat(lambda body: _answer(query))
    res = engine.ask("revenue by industry", now=NOW)
    assert not res.understood and res.sql == "" and ("not allowed" in res.message or "rejected" in res.message)
    assert file_hash(demo) == before


def test_injected_values_stay_bound(engine: ReportingEngine, server: OpenAIStandIn, demo: Path) -> None:
    evil = "EMEA' OR '1'='1"
    server.on_chat(lambda body: _answer({**GOOD, "filters": [{"field": "region", "op": "eq", "value": evil}]}))
    before = file_hash(demo)
    res = engine.ask("revenue", now=NOW)
    assert res.understood and res.rows == [] and evil in res.params.values() and evil not in res.sql
    assert file_hash(demo) == before


def test_errors_are_typed_and_never_show_the_key(demo: Path, server: OpenAIStandIn) -> None:
    server.reset()
    options = {
        "llm_base_url": server.base_url,
        "llm_api_key": "sk-wrong-key-abcdef0123456789",
        "llm_model": "gpt-4o-mini",
    }
    eng = ReportingEngine(
        ReportingSettings(database_url=f"sqlite:///{demo}", translator="llm", options=options),
        {"llm": translator_spec()},
    )
    with pytest.raises(ReportingError) as info:
        eng.ask("revenue", now=NOW)
    assert "sk-wrong-key" not in str(info.value) and "abcdef0123456789" not in str(info.value)
    eng.close()
    server.fail_next(CHAT, 500, times=2)
    t = LLMTranslator({"llm_base_url": server.base_url, "llm_api_key": KEY})
    assert KEY not in repr(t)
    with pytest.raises(ConfigError, match="llm_base_url"):
        LLMTranslator({"llm_base_url": "ftp://x"})
    with pytest.raises(ConfigError, match="llm_timeout_s"):
        LLMTranslator({"llm_timeout_s": -1})


def test_too_long_question_never_reaches_the_model(engine: ReportingEngine, server: OpenAIStandIn) -> None:
    res = engine.ask("revenue " * 1300, now=NOW)
    assert not res.understood and "too long" in res.message
    assert server.requests_to(CHAT) == []
