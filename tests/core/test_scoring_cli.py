"""``hotcrm-ai score``: every input and output format agrees with ``AICloud.score``; outputs are atomic
(a failed run leaves an existing file untouched), and so is ``batch`` now."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from support.providers import LogitProvider, Plugin, logit_model

from hotcrm_ai import AICloud
from hotcrm_ai.cli.main import cli
from hotcrm_ai.config import load_settings

ROWS: list[dict[str, Any]] = [
    {"id": 1, "x1": 0.5, "x2": -1.0, "x3": 2.0},
    {"id": 2, "x1": "oops", "x2": 0.0, "x3": 1.0},
    {"id": 3, "x1": 2e6, "x2": 0.0, "x3": 1.0},
    {"id": 4, "x1": -0.25, "x2": 4.0, "x3": -3.5},
] * 50


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "hotcrm-ai.toml"
    path.write_text("")

    def from_config(cls: type[AICloud], p: str | None = None, **kw: Any) -> AICloud:
        return AICloud(
            load_settings(p), plugins=[Plugin({"test-logit": LogitProvider}, [logit_model()])], load_entrypoints=False
        )

    monkeypatch.setattr(AICloud, "from_config", classmethod(from_config))
    monkeypatch.setenv("HOTCRM_AI_CONFIG", str(path))
    return path


def write_inputs(folder: Path) -> dict[str, Path]:
    jsonl = folder / "in.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    with open(folder / "in.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "x1", "x2", "x3"])
        writer.writeheader()
        writer.writerows(ROWS)
    # Parquet cannot hold "oops" in a float column: that row is a missing x1 there
    parquet_rows = [{**r, "x1": None} if isinstance(r["x1"], str) else r for r in ROWS]
    pq.write_table(pa.Table.from_pylist(parquet_rows), folder / "in.parquet", row_group_size=64)
    return {"jsonl": jsonl, "csv": folder / "in.csv", "parquet": folder / "in.parquet"}


def read_output(path: Path, fmt: str) -> list[dict[str, Any]]:
    if fmt == "parquet":
        return pq.read_table(path).to_pylist()
    if fmt == "csv":
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True)).to_pylist()
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("out_fmt", ["parquet", "csv", "jsonl"])
@pytest.mark.parametrize("in_fmt", ["parquet", "csv", "jsonl"])
def test_every_format_matches_the_api(config: Path, tmp_path: Path, in_fmt: str, out_fmt: str) -> None:
    inputs = write_inputs(tmp_path)
    out = tmp_path / f"out.{out_fmt}"
    res = CliRunner().invoke(
        cli,
        [
            "--json",
            "score",
            "logit-v1",
            "--input",
            str(inputs[in_fmt]),
            "--output",
            str(out),
            "--chunk-rows",
            "37",
            "--keep",
            "id",
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["rows"] == 200 and summary["failed"] == 100 and summary["engine"] == "local"
    got = read_output(out, out_fmt)
    with AICloud.from_config(str(config)) as ai:
        for row, line in zip(ROWS, got, strict=True):
            assert str(line["id"]) == str(row["id"])  # a CSV column that is not a feature stays text
            feats = {k: v for k, v in row.items() if k != "id"}
            if in_fmt == "parquet" and isinstance(feats["x1"], str):
                feats.pop("x1")
            try:
                want = ai.predict("logit-v1", feats, use_cache=False)
            except Exception as exc:
                assert line["error"] == str(exc)
                assert line["confidence"] is None
                continue
            assert line["error"] is None
            assert abs(line["probability"] - want.prediction["probability"]) < 1e-9


def test_failed_runs_leave_an_existing_output_untouched(config: Path, tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path)
    for command, out in (("score", tmp_path / "kept.parquet"), ("batch", tmp_path / "kept.jsonl")):
        out.write_text("previous results\n")
        res = CliRunner().invoke(cli, [command, "no-such-model", "--input", str(inputs["jsonl"]), "--output", str(out)])
        assert res.exit_code != 0 and "no-such-model" in res.output
        assert out.read_text() == "previous results\n"
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    res = CliRunner().invoke(
        cli,
        [
            "score",
            "logit-v1",
            "--input",
            str(inputs["jsonl"]),
            "--output",
            str(tmp_path / "kept.parquet"),
            "--engine",
            "nope",
        ],
    )
    assert res.exit_code == 2 and "no engine named 'nope'" in res.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"x1": 1, "x2": 2, "x3": 3}\n{not json\n')
    kept = str(tmp_path / "kept.parquet")
    res = CliRunner().invoke(cli, ["score", "logit-v1", "--input", str(bad), "--output", kept])
    assert res.exit_code == 2 and "line 2" in res.output
    assert (tmp_path / "kept.parquet").read_text() == "previous results\n"


def test_batch_still_writes_its_results(config: Path, tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path)
    out = tmp_path / "batch.jsonl"
    res = CliRunner().invoke(cli, ["batch", "logit-v1", "--input", str(inputs["jsonl"]), "--output", str(out)])
    assert res.exit_code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 200  # rows carry an unknown field "id": each is refused in its own line
    assert all(line["error"] and "id: expected a known feature" in line["error"]["message"] for line in lines)
