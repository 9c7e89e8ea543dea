"""Attack: nested and giant inputs through every entry point. Each is a ValidationError naming the
field (exit 2 on the command line), never a RecursionError, a digit-limit ValueError or a lost batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hotcrm_ai import AICloud, ValidationError
from hotcrm_ai.config import Settings

CLI = str(Path(sys.executable).parent / "hotcrm-ai")
GIANT = "9" * 5000


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture(scope="module")
def ai() -> AICloud:
    return AICloud(Settings(), load_entrypoints=True)


@pytest.fixture(scope="module")
def lead(ai: AICloud) -> dict[str, Any]:
    return dict(ai.registry.get("lead-scoring-v1").parameters["example"])


@pytest.mark.parametrize(
    "value",
    [_nested(1000), _nested(50), 10**5000, -(10**5000), "x" * 2_000_000],
    ids=["nested-1000", "nested-50", "giant-int", "giant-negative-int", "huge-string"],
)
def test_predict_refuses_with_a_typed_error_naming_the_field(ai: AICloud, lead: dict[str, Any], value: Any) -> None:
    with pytest.raises(ValidationError, match="age"):
        ai.predict("lead-scoring-v1", {**lead, "age": value})
    with pytest.raises(ValidationError, match="age"):
        ai.predict("lead-scoring-v1", {**lead, "age": value}, use_cache=False)


def test_batch_predict_fails_that_row_only(ai: AICloud, lead: dict[str, Any]) -> None:
    rows = [lead, {**lead, "age": _nested(1000)}, {**lead, "age": 10**5000}, lead]
    results = ai.batch_predict("lead-scoring-v1", rows)
    assert [r.error is None for r in results] == [True, False, False, True]
    assert all(
        r.error is not None and r.error.type == "ValidationError" and "age" in r.error.message for r in results[1:3]
    )


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOTCRM_AI_LOAD_PLUGINS": "standard"}
    env.pop("HOTCRM_AI_CONFIG", None)
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_cli_predict_exits_2_on_giant_and_deep_json(tmp_path: Path, lead: dict[str, Any]) -> None:
    text = json.dumps(lead)
    giant = text.replace(f'"age": {lead["age"]}', f'"age": {GIANT}')
    assert GIANT in giant
    res = _cli("predict", "lead-scoring-v1", "-f", giant, cwd=tmp_path)
    assert res.returncode == 2 and "age" in res.stderr and "Traceback" not in res.stderr, res.stderr
    deep = tmp_path / "deep.json"
    deep.write_text('{"age": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    res = _cli("predict", "lead-scoring-v1", "-f", f"@{deep}", cwd=tmp_path)
    assert res.returncode == 2 and "--features" in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_cli_batch_keeps_every_other_row(tmp_path: Path, lead: dict[str, Any]) -> None:
    good = json.dumps(lead)
    giant = good.replace(f'"age": {lead["age"]}', f'"age": {GIANT}')
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join([good, giant, good]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = _cli("batch", "lead-scoring-v1", "--input", str(rows), "--output", str(out), "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["error"] is None for r in results] == [True, False, True]
    assert "age" in results[1]["error"]["message"]
