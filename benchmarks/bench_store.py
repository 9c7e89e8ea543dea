"""Store benchmarks. Run: ``python benchmarks/bench_store.py`` (PostgreSQL on 127.0.0.1:5432, trust
auth; ``BENCH_STORE_SECONDS`` shortens part b). Every figure comes from this run, in this process:

(a) one predict (lead-scoring-v1, no cache) with the SQLite store   vs  the same with url = "memory"
    (the request path only queues the event: goal <= 1.1x)
(b) 2,000 predictions/s offered for 30 s against PostgreSQL (batches of 40): achieved rate, the writer queue's
    high-water mark, events dropped (goal 0) and events written (must equal predictions made)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _timing import line, per_call_s

from hotcrm_ai import AICloud
from hotcrm_ai.config import Settings, StoreSettings
from hotcrm_ai_plugins.models.examples import EXAMPLES

PG = os.environ.get("HOTCRM_AI_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
FEATURES = EXAMPLES["lead-scoring-v1"]


def cloud(url: str) -> AICloud:
    return AICloud(Settings(store=StoreSettings(url=url)))


def single_predict() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        memory, sqlite = cloud("memory"), cloud(f"sqlite:///{Path(tmp) / 'store.sqlite'}")
        try:

            def one(ai: AICloud) -> float:
                return per_call_s(lambda: ai.predict("lead-scoring-v1", FEATURES, use_cache=False), number=2_000)

            base, ours = [], []
            for _ in range(3):  # interleaved, so drift on a shared machine hits both alike
                base.append(one(memory))
                ours.append(one(sqlite))
            b, o = sorted(base)[1], sorted(ours)[1]
            print(line("(a) predict, SQLite store vs in-memory monitor", o * 1e6, b * 1e6, "us", "<= 1.1x"))
            sqlite.monitor.writer.flush(30)  # type: ignore[attr-defined]
            print(
                f"    SQLite writer: written {sqlite.monitor.writer.written:,}, "  # type: ignore[attr-defined]
                f"high-water {sqlite.monitor.writer.high_water:,}, dropped {sqlite.monitor.writer.dropped}"
            )  # type: ignore[attr-defined]
        finally:
            memory.close()
            sqlite.close()


def sustained_postgres(rate: float = 2_000.0, seconds: float = 30.0) -> None:
    from sqlalchemy import create_engine, text

    name = f"hcbench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        ai = cloud(PG.rsplit("/", 1)[0] + f"/{name}")
        writer = ai.monitor.writer  # type: ignore[attr-defined]
        made = 0
        chunk = 40  # offered as batches (as a scoring job would): one client thread can offer the rate
        rows = [FEATURES] * chunk
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            made += sum(r.ok for r in ai.batch_predict("lead-scoring-v1", rows, use_cache=False))
            pause = made / rate - (time.perf_counter() - start)
            if pause > 0:
                time.sleep(pause)
        elapsed = time.perf_counter() - start
        writer.flush(60)
        total = ai.stats("lead-scoring-v1").total
        print(
            line(
                "(b) PostgreSQL, achieved vs offered predictions/s",
                made / elapsed,
                rate,
                "/s",
                ">= 1.0x",
                higher_is_better=True,
            )
        )
        print(
            f"    {seconds:.0f} s: made {made:,}, written {writer.written:,}, in stats {total:,}, "
            f"queue high-water {writer.high_water:,} of {writer.queue_size:,}, dropped {writer.dropped} (goal 0)"
        )
        ai.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    os.environ.setdefault("HOTCRM_AI_HOME", tempfile.mkdtemp(prefix="hcbench-home-"))
    single_predict()
    sustained_postgres(seconds=float(os.environ.get("BENCH_STORE_SECONDS", "30")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
