"""The ``llm`` translator's behaviour, shared by every provider it runs on (OpenAI, Anthropic): a test
module subclasses ``LLMTranslatorCases`` and provides the fixtures ``ai`` (an ``AICloud`` whose
``[reporting]`` names ``MODEL_ID`` on that provider, over the demo database ``demo``) and ``wire`` (a
``Wire`` that scripts the provider's stand-in and reads back what was sent).

Whatever the model answers goes through the same validation: the provider checks the answer against the
AST's JSON schema, the translator parses it strictly, the engine validates it against the catalogue and
compiles it with bound parameters. Nothing the model writes runs as SQL; the database never changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hotcrm_ai import AICloud
from support.reporting import file_hash

MODEL_ID = "report-llm"
NOW = "2026-11-25"
GOOD = {
    "object": "opportunity",
    "fields": [],
    "filters": [{"field": "region", "op": "eq", "value": "EMEA"}],
    "group_by": [{"field": "industry", "bucket": None}],
    "aggregates": [{"func": "metric", "field": None, "metric": "revenue", "alias": None, "where": []}],
    "order_by": [],
    "limit": None,
    "time_range": {"start": "2025-01-01", "end": "2025-12-31", "field": None, "label": "2025"},
    "comparison": None,
}
MALICIOUS = [
    {**GOOD, "object": "sqlite_master"},
    {**GOOD, "object": "user; DROP TABLE account"},
    {**GOOD, "fields": ["password"], "aggregates": []},
    {**GOOD, "filters": [{"field": "region) OR 1=1 --", "op": "eq", "value": "EMEA"}]},
    {**GOOD, "group_by": [{"field": "account.owner.name", "bucket": None}]},
    {**GOOD, "group_by": [{"field": "pg_catalog.pg_tables", "bucket": None}]},
    {
        **GOOD,
        "aggregates": [
            {"func": "metric", "field": None, "metric": "revenue", "alias": 'x"; DELETE FROM account; --', "where": []}
        ],
    },
    {**GOOD, "aggregates": [{"func": "sum", "field": "(SELECT 1)", "metric": None, "alias": None, "where": []}]},
    {**GOOD, "order_by": [{"field": "revenue DESC; DROP TABLE lead", "direction": "desc"}]},
    {**GOOD, "time_range": {"start": "2025-01-01'; --", "end": "2025-12-31", "field": None, "label": ""}},
    {**GOOD, "time_range": {"start": "2025-01-01", "end": "2025-12-31", "field": "region", "label": ""}},
]
SCHEMA_INVALID = [
    {"understood": True},  # fields missing
    {"understood": True, "reason": "", "query": {**GOOD, "limit": "ten"}},
    {"understood": True, "reason": "", "query": {**GOOD, "extra_sql": "DROP TABLE account"}},
    {"understood": True, "reason": "", "query": {**GOOD, "filters": [{"field": "region", "op": "eq", "value": {}}]}},
]


def answer(query: Any, understood: bool = True, reason: str = "") -> dict[str, Any]:
    return {"understood": understood, "reason": reason, "query": query}


class Wire:
    """Scripts the provider's stand-in and reads back the translator's requests (one per provider)."""

    def script(self, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Every model call answers ``fn(request body)`` as its structured answer."""
        raise NotImplementedError

    def bodies(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def system_text(self, body: dict[str, Any]) -> str:
        raise NotImplementedError

    def user_text(self, body: dict[str, Any]) -> str:
        raise NotImplementedError


class LLMTranslatorCases:
    def test_good_ast_is_run_and_matches_hand_sql(self, ai: AICloud, wire: Wire, demo: Path) -> None:
        wire.script(lambda body: answer(GOOD))
        res = ai.reporting.ask("Revenue by industry in EMEA in 2025", now=NOW)
        assert res.understood and res.translator == "llm", res.message
        con = sqlite3.connect(f"file:{demo}?mode=ro", uri=True)
        want = dict(
            con.execute(
                "SELECT a.industry, SUM(o.amount) FROM opportunity o JOIN account a ON o.account_id = a.id "
                "WHERE o.stage = 'closed_won' AND a.region = 'EMEA' "
                "AND o.close_date BETWEEN '2025-01-01' AND '2025-12-31' GROUP BY a.industry"
            ).fetchall()
        )
        con.close()
        assert want and {r["industry"]: r["revenue"] for r in res.rows} == pytest.approx(want)
        body = wire.bodies()[-1]
        assert "Revenue by industry in EMEA in 2025" in wire.user_text(body) and NOW in wire.user_text(body)
        system = wire.system_text(body)
        assert '"revenue"' in system and "EMEA" in system and NOW not in system  # stable, so cacheable

    def test_the_model_may_decline(self, ai: AICloud, wire: Wire) -> None:
        wire.script(lambda body: answer(None, understood=False, reason="no weather data in the CRM"))
        res = ai.reporting.ask("Will it rain tomorrow?", now=NOW)
        assert not res.understood and "no weather data" in res.message and res.sql == ""

    @pytest.mark.parametrize("reply", SCHEMA_INVALID, ids=[f"invalid{i}" for i in range(len(SCHEMA_INVALID))])
    def test_schema_invalid_answers_are_asked_again_then_not_understood(
        self, ai: AICloud, wire: Wire, demo: Path, reply: dict[str, Any]
    ) -> None:
        before = file_hash(demo)
        wire.script(lambda body: reply)
        res = ai.reporting.ask("revenue by industry", now=NOW)
        assert not res.understood and "rejected" in res.message and res.sql == "" and res.rows == []
        assert len(wire.bodies()) == 2  # one more try, then a non-retryable refusal
        assert file_hash(demo) == before

    def test_a_valid_answer_on_the_second_try_is_used(self, ai: AICloud, wire: Wire) -> None:
        replies = iter([SCHEMA_INVALID[1], answer(GOOD)])
        wire.script(lambda body: next(replies))
        res = ai.reporting.ask("Revenue by industry in EMEA in 2025", now=NOW)
        assert res.understood and res.rows and len(wire.bodies()) == 2

    @pytest.mark.parametrize("query", MALICIOUS, ids=[f"malicious{i}" for i in range(len(MALICIOUS))])
    def test_malicious_asts_are_refused(self, ai: AICloud, wire: Wire, demo: Path, query: dict[str, Any]) -> None:
        before = file_hash(demo)
        wire.script(lambda body: answer(query))
        res = ai.reporting.ask("revenue by industry", now=NOW)
        assert not res.understood and res.sql == "" and ("not allowed" in res.message or "rejected" in res.message)
        assert file_hash(demo) == before

    def test_injected_values_stay_bound(self, ai: AICloud, wire: Wire, demo: Path) -> None:
        evil = "EMEA' OR '1'='1"
        wire.script(lambda body: answer({**GOOD, "filters": [{"field": "region", "op": "eq", "value": evil}]}))
        before = file_hash(demo)
        res = ai.reporting.ask("revenue", now=NOW)
        assert res.understood and res.rows == [] and evil in res.params.values() and evil not in res.sql
        assert file_hash(demo) == before

    def test_too_long_question_never_reaches_the_model(self, ai: AICloud, wire: Wire) -> None:
        res = ai.reporting.ask("revenue " * 1300, now=NOW)
        assert not res.understood and "too long" in res.message
        assert wire.bodies() == []

    def test_usage_is_recorded_under_the_model(self, ai: AICloud, wire: Wire) -> None:
        wire.script(lambda body: answer(GOOD))
        ai.reporting.ask("Revenue by industry in EMEA in 2025", now=NOW)
        ai.reporting.ask("Revenue by industry in EMEA in 2025", now=NOW)
        stats = ai.monitor.stats(MODEL_ID)
        assert stats is not None and stats.total == 2 and stats.successes == 2
        assert stats.usage.get("total_tokens", 0) > 0
