"""As a new user: separate ``hotcrm-ai`` processes under a fresh home directory share one state
(the default SQLite store in the user's data directory, no configuration)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hotcrm_ai_plugins.models.examples import EXAMPLES


def test_cli_keeps_state_across_commands_under_a_fresh_home(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTCRM_AI_", "XDG_"))}
    env["HOME"] = str(tmp_path)
    cwd = tmp_path / "work"
    cwd.mkdir()

    def run(*args: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "hotcrm_ai.cli.main", "--json", *args],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    features = json.dumps(EXAMPLES["lead-scoring-v1"])
    first = run("predict", "lead-scoring-v1", "-f", features)
    run("predict", "lead-scoring-v1", "-f", features, "--no-cache")
    stats = run("stats")
    assert stats["lead-scoring-v1"]["total"] == 2 and stats["lead-scoring-v1"]["dropped"] == 0
    assert stats["lead-scoring-v1"]["accuracy"] is None
    label = first["prediction"]["label"]
    assert run("predictions", "outcome", first["prediction_id"], label)["correct"] is True
    assert run("stats", "lead-scoring-v1")["accuracy"] == 100.0  # reported by another process, counted
    run("predictions", "outcome", first["prediction_id"], "cold" if label != "cold" else "hot")  # a correction
    assert run("stats", "lead-scoring-v1")["accuracy"] == 0.0
    run("models", "alias", "set", "lead-scoring-v1", "champion", "1.0.0")
    run("models", "status", "churn-prediction-v1", "deprecated")
    assert run("models", "alias", "list") == {"lead-scoring-v1": {"champion": "1.0.0"}}
    assert run("models", "show", "churn-prediction-v1")["status"] == "deprecated"
    via_alias = run("predict", "lead-scoring-v1@champion", "-f", features)
    assert via_alias["model_version"] == "1.0.0"
    shown = run("predictions", "show", first["prediction_id"])
    assert (shown["model_id"], shown["model_version"], shown["variant"]) == ("lead-scoring-v1", "1.0.0", None)
    assert len(shown["config_digest"]) == 16
    assert (tmp_path / ".local" / "share" / "hotcrm-ai" / "store.sqlite").exists()  # the user's data dir
    info = run("store", "info")
    assert info["rows"]["events"] == 3 and info["rows"]["history"] == 2 and info["rows"]["outcomes"] == 1
