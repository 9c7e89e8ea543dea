"""The five CRM models scored column-wise: every row equals ``predict`` (values to 1e-9, labels equal,
refusals word for word), from mappings, Arrow tables and pandas; ``batch_predict`` without the cache
takes the columnar path and still equals ``predict``; a 2,000,000-row file scores in bounded memory."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from hotcrm_ai import AICloud
from hotcrm_ai.errors import HotCRMAIError

MODELS = (
    "lead-scoring-v1",
    "churn-prediction-v1",
    "sentiment-analysis-v1",
    "revenue-forecast-v1",
    "product-recommendation-v1",
)


@pytest.fixture(scope="module")
def ai() -> AICloud:
    cloud = AICloud()
    yield cloud
    cloud.close()


def rows_for(ai: AICloud, model_id: str) -> list[dict[str, Any]]:
    """Real rows (the model's example and background), plus rows each broken in a different way."""
    model = ai.registry.get(model_id)
    example = dict(model.parameters["example"])
    good = [example, *[dict(r) for r in model.background[:12]]]
    first = model.features[0].name
    broken = [
        {**example, first: {"not": "valid"}},  # wrong type
        {k: v for k, v in example.items() if k != first},  # a required field missing
        {**example, "no_such_field": 1},  # unknown field
    ]
    if model_id == "lead-scoring-v1":
        broken += [{**example, "age": -4}, {**example, "job": "astronaut"}, {**example, "age": 150.5}]
    if model_id == "churn-prediction-v1":
        broken += [{**example, "senior_citizen": 3}, {**example, "tenure": float("inf")}]
    if model_id == "sentiment-analysis-v1":
        broken += [{"text": "   "}, {"text": 42}]  # blank text is refused by the model itself
    if model_id == "revenue-forecast-v1":
        broken += [{**example, "history": [1.0]}, {**example, "horizon": 0}]
    if model_id == "product-recommendation-v1":
        broken += [{"products": ["NOPE-1", "NOPE-2"], "k": 3}, {**example, "k": 1000}]
    return good + broken


def as_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    names = list(dict.fromkeys(k for r in rows for k in r))
    return {k: [r.get(k) for r in rows] for k in names}


def close(a: Any, b: Any) -> bool:
    """Equal, numbers to 1e-9, recursively through lists and dicts."""
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def check_against_predict(ai: AICloud, model_id: str, table: pa.Table, rows: Sequence[Mapping[str, Any]]) -> int:
    refused = 0
    for got, row in zip(table.to_pylist(), rows, strict=True):
        try:
            want = ai.predict(model_id, row, use_cache=False)
        except HotCRMAIError as exc:
            refused += 1
            assert got["error"] == str(exc), (got["error"], str(exc))
            assert got["confidence"] is None
            continue
        assert got["error"] is None, got["error"]
        for field, value in want.prediction.items():
            assert close(got[field], value), (field, got[field], value)
        assert close(got["confidence"], want.confidence)
        assert (got["model_id"], got["model_version"], got["variant"]) == (want.model_id, want.model_version, None)
    return refused


@pytest.mark.parametrize("model_id", MODELS)
def test_every_model_scores_like_predict_row_by_row(ai: AICloud, model_id: str) -> None:
    rows = rows_for(ai, model_id)
    table = ai.score(model_id, as_columns(rows), chunk_rows=7)
    assert table.num_rows == len(rows)
    refused = check_against_predict(ai, model_id, table, rows)
    assert refused >= 4
    assert table.column("error").null_count == len(rows) - refused


def test_lead_from_arrow_dictionary_columns_and_pandas(ai: AICloud) -> None:
    rows = [r for r in rows_for(ai, "lead-scoring-v1")[:13]]
    arrow = pa.Table.from_pylist(rows)
    coded = arrow.set_column(arrow.schema.get_field_index("job"), "job", arrow.column("job").dictionary_encode())
    by_arrow = ai.score("lead-scoring-v1", coded)
    assert check_against_predict(ai, "lead-scoring-v1", by_arrow, rows) == 0
    assert ai.score("lead-scoring-v1", arrow.to_pandas()).equals(by_arrow)


@pytest.mark.parametrize("model_id", MODELS)
def test_batch_predict_uncached_equals_predict(ai: AICloud, model_id: str) -> None:
    rows = rows_for(ai, model_id)
    results = ai.batch_predict(model_id, rows, use_cache=False)
    assert ai.monitor.chunks(model_id)  # the columnar path ran
    for result, row in zip(results, rows, strict=True):
        try:
            want = ai.predict(model_id, row, use_cache=False)
        except HotCRMAIError as exc:
            assert result.error is not None and result.error.message == str(exc)
            continue
        assert result.ok and close(result.prediction, want.prediction) and close(result.confidence, want.confidence)
        assert result.metadata == want.metadata


MEMORY_SCRIPT = textwrap.dedent("""
    import json, subprocess, sys
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    from hotcrm_ai import AICloud
    n, path, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    model = AICloud().registry.get("lead-scoring-v1")
    rng = np.random.default_rng(0)
    writer = None
    for begin in range(0, n, 250_000):
        m = min(250_000, n - begin)
        cols = {}
        for f in model.features:
            if f.name == "duration":
                continue
            if f.choices:
                cols[f.name] = pa.array(np.asarray(f.choices)[rng.integers(0, len(f.choices), m)])
            elif f.dtype == "integer":
                cols[f.name] = pa.array(rng.integers(int(f.minimum or 0) + 1, 60, m))
            else:
                cols[f.name] = pa.array(np.round(rng.uniform(0.7, 5.0, m), 3))
        table = pa.table(cols)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=131_072)
    writer.close()
    # the child reports its own peak (VmHWM), not counting pages of this process it forked from
    peak = ("import atexit, runpy, sys; atexit.register(lambda: print('VmHWM', open('/proc/self/status').read()"
            ".split('VmHWM:')[1].split()[0], file=sys.stderr)); sys.argv = ['hotcrm-ai', *sys.argv[1:]]; "
            "runpy.run_module('hotcrm_ai.cli.main', run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", peak, "--json", "score", "lead-scoring-v1",
                           "--input", path, "--output", out, "--chunk-rows", "65536"], capture_output=True, text=True)
    peak = int(proc.stderr.split("VmHWM")[-1].split()[0]) * 1024
    print(json.dumps({"code": proc.returncode, "stderr": proc.stderr[-500:], "summary": proc.stdout, "peak": peak}))
""")

GROWTH_BOUND = 256 * 2**20  # bytes beyond the same command on a one-chunk file: a few 65,536-row chunks
ABSOLUTE_BOUND = 2**30  # what the scoring goal allows a 5,000,000-row file


def _peak(tmp_path: Path, n: int, name: str) -> dict:
    script = tmp_path / "measure.py"
    script.write_text(MEMORY_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), str(n), str(tmp_path / f"{name}.parquet"), str(tmp_path / f"{name}-out.parquet")],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, report["stderr"]
    assert json.loads(report["summary"])["rows"] == n
    return report


def test_two_million_rows_score_within_a_memory_bound(tmp_path: Path) -> None:
    """Peak memory is bounded by the chunk, not the file: 2,000,000 rows take at most a few chunks more
    than one chunk's worth of rows does (interpreter, numpy, pyarrow, store and models are in both)."""
    n = 2_000_000
    small = _peak(tmp_path, 65_536, "small")["peak"]
    big = _peak(tmp_path, n, "in")["peak"]
    assert 50 * 2**20 < big < ABSOLUTE_BOUND, f"peak RSS {big / 2**20:.0f} MiB"
    assert big - small < GROWTH_BOUND, f"peak RSS {big / 2**20:.0f} MiB vs {small / 2**20:.0f} MiB for one chunk"
    import pyarrow.parquet as pq

    assert pq.ParquetFile(tmp_path / "in-out.parquet").metadata.num_rows == n
