"""Reporting benchmark. Run: ``python benchmarks/bench_reporting.py``.

For a few typical questions on the SQLite demo database: ``ReportingEngine.ask`` (translate, validate,
compile, run read-only, summary, narrative) vs running the same compiled SQL directly with sqlite3 on
a plain connection (the floor: what the query alone costs). No goal is asserted; the ratio says how
much the safety and the words add on top of the database work.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from _timing import line, per_call_s

from hotcrm_ai.reporting.compile import compile_query

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.reporting import engine_for, make_demo_sqlite

QUESTIONS = [
    "Revenue by region in 2025",
    "Win rate by rep last quarter",
    "How many high priority cases this month",
    "Average resolution time by priority",
    "Top 10 accounts by annual revenue",
]


def main() -> None:
    path = make_demo_sqlite(Path(tempfile.mkdtemp()))
    engine = engine_for(f"sqlite:///{path}")
    plain = sa.create_engine(f"sqlite:///{path}")  # a plain, pooled, writable connection: the floor
    with plain.connect() as con:
        for q in QUESTIONS:
            res = engine.ask(q, now="2026-11-25")
            select = compile_query(res.query, engine.catalogue, limit=100).select  # the very SELECT ask() ran
            ours = per_call_s(lambda q=q: engine.ask(q, now="2026-11-25"), number=20)
            base = per_call_s(lambda s=select: con.execute(s).fetchall(), number=20)
            print(line(f"ask({q!r})", ours * 1e3, base * 1e3, "ms", "none; report"))
    engine.close()
    plain.dispose()


if __name__ == "__main__":
    main()
