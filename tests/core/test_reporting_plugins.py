"""Translators are plugins: ``register_query_translators`` adds one, AICloud.ask uses the configured one,
and its AST is validated like any other."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from support.reporting import file_hash, make_demo_sqlite

from hotcrm_ai import hookimpl
from hotcrm_ai.config import ReportingSettings, Settings
from hotcrm_ai.descriptors import QueryTranslatorSpec
from hotcrm_ai.reporting.ast import Aggregate, Filter, NotUnderstood, Query


class KeywordTranslator:
    """A tiny third-party translator: 'lost' -> count of lost deals; 'evil' -> a disallowed AST."""

    name = "keyword"

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = options

    def translate(self, question: str, *, catalogue: Any, now: date, context: Mapping[str, Any]) -> Any:
        if "lost" in question:
            return Query(
                object="opportunity", filters=[Filter("stage", "eq", "closed_lost")], aggregates=[Aggregate("count")]
            )
        if "evil" in question:
            return Query(object="sqlite_master")
        return NotUnderstood(f"only knows 'lost' (options: {sorted(self.options)})")


class Plugin:
    @hookimpl
    def register_query_translators(self, register: Callable[[QueryTranslatorSpec], None]) -> None:
        register(QueryTranslatorSpec("keyword", KeywordTranslator, description="test translator"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_sqlite(tmp_path_factory.mktemp("reporting-plugins"))


def test_plugin_translator_through_aicloud(demo: Path) -> None:
    from hotcrm_ai.cloud import AICloud

    settings = Settings(
        reporting=ReportingSettings(database_url=f"sqlite:///{demo}", translator="keyword", options={"x": 1})
    )
    ai = AICloud(settings, plugins=[Plugin()], load_entrypoints=False)
    try:
        assert {"rules", "keyword"} <= set(ai.plugins.translators)
        before = file_hash(demo)
        res = ai.ask("how many lost deals")
        import sqlite3

        con = sqlite3.connect(f"file:{demo}?mode=ro", uri=True)
        n = con.execute("SELECT COUNT(*) FROM opportunity WHERE stage = 'closed_lost'").fetchone()[0]
        con.close()
        assert res.understood and res.rows == [{"count": n}] and res.translator == "keyword"
        evil = ai.ask("something evil")
        assert not evil.understood and "not allowed" in evil.message
        other = ai.ask("revenue")
        assert not other.understood and "only knows 'lost'" in other.message and "['x']" in other.message
        assert file_hash(demo) == before
    finally:
        ai.close()


def test_builtin_rules_translator_is_the_default(demo: Path) -> None:
    from hotcrm_ai.cloud import AICloud

    ai = AICloud(Settings(reporting=ReportingSettings(database_url=f"sqlite:///{demo}")), load_entrypoints=False)
    try:
        res = ai.ask("how many deals by stage", now=date(2026, 11, 25))
        assert res.understood and res.translator == "rules" and len(res.rows) == 6
    finally:
        ai.close()
