"""Shared helpers for the reporting tests: a demo database, an engine on it, result comparison.

Run ``PYTHONPATH=tests python -m support.reporting [URL]`` to print the rules translator's
execution accuracy on tests/support/reporting_questions.py (SQLite demo file by default).
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hotcrm_ai.builtins.rules_translator import _factory
from hotcrm_ai.config import ReportingSettings
from hotcrm_ai.descriptors import QueryTranslatorSpec
from hotcrm_ai.reporting.demo_data import create_demo_database
from hotcrm_ai.reporting.engine import ReportingEngine

RULES = {"rules": QueryTranslatorSpec("rules", _factory)}


def make_demo_sqlite(directory: Path) -> Path:
    path = directory / "demo.sqlite"
    if not path.exists():
        create_demo_database(f"sqlite:///{path}")
    return path


def engine_for(url: str, **kw: Any) -> ReportingEngine:
    return ReportingEngine(ReportingSettings(database_url=url, **kw), RULES)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _norm(v: Any) -> str:
    if isinstance(v, Decimal):
        v = float(v)
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)):
        if isinstance(v, float) and math.isnan(v):
            return "nan"
        return f"{float(v):.9g}"
    if v is None:
        return "None"
    if hasattr(v, "isoformat"):
        return v.isoformat().replace("T", " ")
    return str(v)


def normalize(rows: Iterable[Sequence[Any]], ordered: bool) -> list[tuple[str, ...]]:
    """Rows as sorted value tuples (column order does not matter); row order kept only if ``ordered``."""
    out = [tuple(sorted(_norm(v) for v in r)) for r in rows]
    return out if ordered else sorted(out)


def expected_rows(conn: sa.Connection, item: dict) -> list[tuple[Any, ...]]:
    sql = item.get("sql_pg") if conn.dialect.name == "postgresql" and item.get("sql_pg") else item["sql"]
    return [
        tuple(r)
        for r in conn.exec_driver_sql(sql.replace("%", "%%") if conn.dialect.name == "postgresql" else sql).fetchall()
    ]


def check(engine: ReportingEngine, conn: sa.Connection, item: dict, default_now: str) -> tuple[bool, str]:
    """Ask one question; compare with its hand-written SQL. Returns (ok, explanation)."""
    res = engine.ask(item["q"], now=item.get("now", default_now), limit=1000)
    if not res.understood:
        return False, f"not understood: {res.message[:160]}"
    got = normalize([tuple(r.values()) for r in res.rows], item.get("ordered", False))
    want = normalize(expected_rows(conn, item), item.get("ordered", False))
    if got != want:
        return (
            False,
            f"rows differ: got {got[:3]} ... ({len(got)}), want {want[:3]} ... ({len(want)}); query {res.query}",
        )
    return True, ""


def measure(url: str, questions: Sequence[dict], default_now: str) -> tuple[int, list[tuple[str, str]]]:
    engine = engine_for(url)
    passed, failures = 0, []
    sa_engine = sa.create_engine(url)
    try:
        with sa_engine.connect() as conn:
            for item in questions:
                ok, why = check(engine, conn, item, default_now)
                passed += ok
                if not ok:
                    failures.append((item["q"], why))
    finally:
        sa_engine.dispose()
        engine.close()
    return passed, failures


def main(argv: list[str]) -> None:
    import tempfile

    from support.reporting_questions import NOW, QUESTIONS

    url = argv[0] if argv else f"sqlite:///{make_demo_sqlite(Path(tempfile.mkdtemp()))}"
    passed, failures = measure(url, QUESTIONS, NOW)
    for q, why in failures:
        print(f"FAIL {q!r}: {why}")
    print(f"execution accuracy: {passed}/{len(QUESTIONS)} = {passed / len(QUESTIONS):.1%}")


if __name__ == "__main__":
    main(sys.argv[1:])
