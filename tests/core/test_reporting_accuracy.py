"""Execution accuracy of the rules translator: >= 90% of the question set must return exactly the rows
of the hand-written SQL (tests/support/reporting_questions.py) on the SQLite demo database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from support.reporting import check, engine_for, file_hash, make_demo_sqlite
from support.reporting_questions import NOW, QUESTIONS


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_sqlite(tmp_path_factory.mktemp("reporting-accuracy"))


def test_question_set_is_broad() -> None:
    assert len(QUESTIONS) >= 80
    text = " ".join(q["q"].lower() for q in QUESTIONS)
    for word in (
        "revenue",
        "pipeline",
        "win rate",
        "deal size",
        "leads",
        "conversion",
        "cases",
        "resolution",
        "csat",
        "accounts",
        "contacts",
        "campaigns",
        "products",
        "users",
        "by month",
        "by quarter",
        "by week",
        "last quarter",
        "this month",
        "last 30 days",
        "q3 2025",
        "in 2025",
        "top",
    ):
        assert word in text, word


def test_rules_execution_accuracy_sqlite(demo: Path) -> None:
    url = f"sqlite:///{demo}"
    before = file_hash(demo)
    engine = engine_for(url)
    failures = []
    with sa.create_engine(url).connect() as conn:
        for item in QUESTIONS:
            ok, why = check(engine, conn, item, NOW)
            if not ok:
                failures.append(f"{item['q']}: {why}")
    engine.close()
    accuracy = 1 - len(failures) / len(QUESTIONS)
    print(f"rules execution accuracy (SQLite): {len(QUESTIONS) - len(failures)}/{len(QUESTIONS)} = {accuracy:.1%}")
    assert accuracy >= 0.9, "\n".join(failures)
    assert file_hash(demo) == before
