"""Shared helpers for the reporting tests: a demo database, an engine on it, result comparison.

Run ``PYTHONPATH=tests python -m support.reporting [URL]`` to print the rules translator's
execution accuracy on tests/support/reporting_questions.py (SQLite demo file by default).
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Iterable, Sequence
from datetime import date
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
DEMO_NOW = date(2026, 11, 25)  # the demo history ends here; the question set's "now" is the same day


def make_demo_sqlite(directory: Path) -> Path:
    path = directory / "demo.sqlite"
    if not path.exists():
        create_demo_database(f"sqlite:///{path}", now=DEMO_NOW)
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


def expected_rows(conn: sa.Connection, item: dict, key: str = "sql") -> list[tuple[Any, ...]]:
    sql = item.get(f"{key}_pg") if conn.dialect.name == "postgresql" and item.get(f"{key}_pg") else item[key]
    return [
        tuple(r)
        for r in conn.exec_driver_sql(sql.replace("%", "%%") if conn.dialect.name == "postgresql" else sql).fetchall()
    ]


def classify(engine: ReportingEngine, conn: sa.Connection, item: dict, default_now: str) -> tuple[str, str]:
    """Ask one question and compare with its hand-written SQL: ("right" | "abstained" | "wrong", why)."""
    res = engine.ask(item["q"], now=item.get("now", default_now), limit=1000)
    if not res.understood:
        return "abstained", f"not understood: {res.message[:160]}"
    got = normalize([tuple(r.values()) for r in res.rows], item.get("ordered", False))
    want = normalize(expected_rows(conn, item), item.get("ordered", False))
    if got != want:
        return (
            "wrong",
            f"rows differ: got {got[:3]} ... ({len(got)}), want {want[:3]} ... ({len(want)}); query {res.query}",
        )
    if "cmp_sql" in item:
        if res.comparison is None:
            return "wrong", f"no comparison; query {res.query}"
        got_c = normalize([tuple(res.comparison["aggregates"].values())], False)
        want_c = normalize(expected_rows(conn, item, "cmp_sql"), False)
        if got_c != want_c:
            return "wrong", f"comparison differs: got {got_c}, want {want_c}; query {res.query}"
    return "right", ""


def check(engine: ReportingEngine, conn: sa.Connection, item: dict, default_now: str) -> tuple[bool, str]:
    """Ask one question; compare with its hand-written SQL. Returns (ok, explanation)."""
    verdict, why = classify(engine, conn, item, default_now)
    return verdict == "right", why


def measure(url: str, questions: Sequence[dict], default_now: str) -> dict[str, list[tuple[str, str]]]:
    """Every question classified: {"right": [...], "abstained": [...], "wrong": [...]} of (question, why)."""
    engine = engine_for(url)
    out: dict[str, list[tuple[str, str]]] = {"right": [], "abstained": [], "wrong": []}
    sa_engine = sa.create_engine(url)
    try:
        with sa_engine.connect() as conn:
            for item in questions:
                verdict, why = classify(engine, conn, item, default_now)
                out[verdict].append((item["q"], why))
    finally:
        sa_engine.dispose()
        engine.close()
    return out


def refused(url: str, questions: Sequence[str], default_now: str) -> list[str]:
    """The must-refuse questions that were answered instead (should be none)."""
    engine = engine_for(url)
    try:
        return [q for q in questions if engine.ask(q, now=default_now).understood]
    finally:
        engine.close()


def main(argv: list[str]) -> None:
    import tempfile
    import time

    from support.reporting_questions import MUST_REFUSE, NOW, QUESTIONS

    url = argv[0] if argv else f"sqlite:///{make_demo_sqlite(Path(tempfile.mkdtemp()))}"
    out = measure(url, QUESTIONS, NOW)
    for verdict in ("wrong", "abstained"):
        for q, why in out[verdict]:
            print(f"{verdict.upper()} {q!r}: {why}")
    answered = refused(url, MUST_REFUSE, NOW)
    for q in answered:
        print(f"ANSWERED (must refuse) {q!r}")
    n = len(QUESTIONS)
    print(
        f"{n} questions: right {len(out['right'])} ({len(out['right']) / n:.1%}), "
        f"abstained {len(out['abstained'])} ({len(out['abstained']) / n:.1%}), "
        f"wrong {len(out['wrong'])} ({len(out['wrong']) / n:.1%}); "
        f"must-refuse refused {len(MUST_REFUSE) - len(answered)}/{len(MUST_REFUSE)}"
    )
    engine = engine_for(url)
    wall: list[float] = []
    cpu: list[float] = []  # this process's CPU time: what the answer costs when the machine is not shared
    try:
        for _ in range(3):
            for item in QUESTIONS:
                t0, c0 = time.perf_counter(), time.process_time()
                engine.ask(item["q"], now=item.get("now", NOW))
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
    finally:
        engine.close()
    for name, xs in (("wall", wall), ("cpu", cpu)):
        xs.sort()
        print(f"ask latency ({name}): p50 {xs[len(xs) // 2] * 1e3:.1f} ms, p95 {xs[int(len(xs) * 0.95)] * 1e3:.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
