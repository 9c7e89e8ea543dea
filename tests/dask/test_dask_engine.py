"""The dask engine on a real dask.distributed cluster (a scheduler and two worker processes on
loopback, started here): the output equals the local engine's, and a worker killed mid-job still
leaves every row in the output exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hotcrm_ai import AICloud
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.scoring.engine import ScoreJob
from hotcrm_ai_dask.engine import DaskEngine, dask_engine
from hotcrm_ai_dask.testing import LocalCluster, local_cluster


@pytest.fixture(scope="module")
def ai() -> Iterator[AICloud]:
    cloud = AICloud()
    yield cloud
    cloud.close()


def lead_rows(ai: AICloud, n: int) -> list[dict[str, Any]]:
    """Real lead rows (background), every 7th broken, each with an id."""
    model = ai.registry.get("lead-scoring-v1")
    base = [dict(r) for r in model.background]
    rows = []
    for i in range(n):
        row = {"id": i, **base[i % len(base)]}
        if i % 7 == 3:
            row["age"] = -1
        rows.append(row)
    return rows


def write_dataset(folder: Path, rows: list[dict[str, Any]], files: int, row_group: int) -> Path:
    folder.mkdir()
    per = -(-len(rows) // files)
    for f in range(files):
        pq.write_table(
            pa.Table.from_pylist(rows[f * per : (f + 1) * per]),
            folder / f"leads-{f:02d}.parquet",
            row_group_size=row_group,
        )
    return folder


def job(source: Path, out: Path, model_id: str = "lead-scoring-v1", fmt: str = "parquet") -> ScoreJob:
    return ScoreJob(
        model_id=model_id,
        input=str(source),
        output=str(out),
        input_format="parquet",
        output_format=fmt,
        chunk_rows=100,
        keep=("id",),
    )


def test_dataset_on_two_workers_equals_the_local_engine(ai: AICloud, tmp_path: Path) -> None:
    source = write_dataset(tmp_path / "in", lead_rows(ai, 3000), files=3, row_group=250)
    local = ai.plugins.engines["local"].factory({})
    local.run(ai, job(source, tmp_path / "local.parquet"))
    with local_cluster(workers=2) as cluster:
        engine = ai.plugins.engines["dask"].factory({"scheduler": cluster.address, "rows_per_task": 500})
        done: list[int] = []
        summary = engine.run(ai, job(source, tmp_path / "dask-out"), done.append)
    expected = pq.read_table(tmp_path / "local.parquet")
    got = pq.read_table(tmp_path / "dask-out")
    assert summary.rows == 3000 and sum(done) == 3000 and len(done) == 6  # 3 files x 2 tasks
    assert summary.failed == sum(1 for i in range(3000) if i % 7 == 3)
    assert got.num_rows == expected.num_rows == 3000
    assert got.sort_by("id").equals(expected.sort_by("id"))
    assert got.column("id").to_pylist() == list(range(3000))  # parts in input order


def test_a_worker_killed_mid_job_still_gives_every_row_exactly_once(ai: AICloud, tmp_path: Path) -> None:
    rows = lead_rows(ai, 12_000)
    source = write_dataset(tmp_path / "in", rows, files=1, row_group=200)
    out = tmp_path / "scored"
    with local_cluster(workers=2) as cluster:
        engine = DaskEngine(scheduler=cluster.address, rows_per_task=200, retries=1)
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                result["summary"] = engine.run(ai, job(source, out))
            except BaseException as exc:  # reported by the assertion below
                result["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        killed_at = _kill_when_parts_appear(cluster, tmp_path)
        thread.join(timeout=300)
        assert not thread.is_alive()
    assert "error" not in result, result.get("error")
    assert killed_at < 60, "the job finished before a worker could be killed"
    table = pq.read_table(out)
    ids = table.column("id").to_pylist()
    assert len(ids) == len(rows) and sorted(ids) == list(range(len(rows)))  # each row exactly once
    assert result["summary"].rows == len(rows)


def _kill_when_parts_appear(cluster: LocalCluster, folder: Path) -> int:
    """Kill worker 0 as soon as a part file exists (the job under way, not finished); return how many."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        parts = list(folder.glob(".scored.*.tmp/part-*.parquet"))
        if parts:
            cluster.workers[0].kill()
            cluster.workers[0].wait()
            return len(parts)
        time.sleep(0.02)
    raise AssertionError("no part file appeared")


def test_engine_options_and_formats_are_checked(ai: AICloud, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="scheduler"):
        dask_engine({})
    with pytest.raises(ConfigError, match=r"\[engines.dask\] unknown key 'workers'"):
        dask_engine({"scheduler": "tcp://127.0.0.1:1", "workers": 3})
    with pytest.raises(ConfigError, match=r"\[engines.dask\]: retries: expected an integer, got str"):
        dask_engine({"scheduler": "tcp://127.0.0.1:1", "retries": "2"})
    engine = dask_engine({"scheduler": "tcp://127.0.0.1:1"})
    with pytest.raises(Exception, match="Parquet"):
        engine.run(ai, job(tmp_path, tmp_path / "out.csv", fmt="csv"))
