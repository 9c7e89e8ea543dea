"""The rules translator on the question set (tests/support/reporting_questions.py) against the SQLite demo
database: each answer is right (the rows of the hand-written SQL), abstained, or wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.reporting import file_hash, make_demo_sqlite, measure, refused
from support.reporting_questions import MUST_REFUSE, NOW, QUESTIONS


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


def test_question_set_covers_the_manager_categories() -> None:
    assert len(QUESTIONS) >= 150 and len(MUST_REFUSE) >= 15
    text = " ".join(q["q"].lower() for q in QUESTIONS)
    for phrase in (
        "top 5 open",
        "biggest lost",
        " vs ",
        "convert last month",
        "open cases",
        "win rate by owner",
        "compared to",
        "spend vs budget",
        "sales cycle",
        "iron bank",
        "muller",
        "revnue",
    ):
        assert phrase in text, phrase
    assert sum("cmp_sql" in q for q in QUESTIONS) >= 3


def test_rules_right_abstained_wrong_sqlite(demo: Path) -> None:
    """Wrong answers at most 1% of the set, right at least 90%, the rest abstained; every must-refuse
    question refused; the database file unchanged."""
    url = f"sqlite:///{demo}"
    before = file_hash(demo)
    out = measure(url, QUESTIONS, NOW)
    n = len(QUESTIONS)
    print(f"SQLite: right {len(out['right'])}/{n}, abstained {len(out['abstained'])}, wrong {len(out['wrong'])}")
    assert len(out["wrong"]) <= n // 100, out["wrong"]
    assert len(out["right"]) >= 0.9 * n, out["abstained"] + out["wrong"]
    assert refused(url, MUST_REFUSE, NOW) == []
    assert file_hash(demo) == before
