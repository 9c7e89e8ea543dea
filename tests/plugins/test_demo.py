"""`hotcrm-ai demo` as a new user runs it: the five models answer, one repeat is a cache hit, then
stats and health."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).parent / "hotcrm-ai")


def test_demo_runs_offline_on_defaults(tmp_path: Path) -> None:
    env = {**os.environ, "HOTCRM_AI_LOAD_PLUGINS": "standard"}
    env.pop("HOTCRM_AI_CONFIG", None)
    out = subprocess.run(
        [CLI, "demo", "--json"], capture_output=True, text=True, check=True, cwd=tmp_path, env=env, timeout=120
    )
    report = json.loads(out.stdout)
    served = {p["model_id"]: p for p in report["predictions"]}
    assert list(served) == [
        "lead-scoring-v1",
        "churn-prediction-v1",
        "sentiment-analysis-v1",
        "revenue-forecast-v1",
        "product-recommendation-v1",
    ]
    assert all(p.get("error") is None for p in served.values())
    assert served["lead-scoring-v1"]["prediction"]["label"] in ("hot", "warm", "cold")
    assert served["sentiment-analysis-v1"]["prediction"]["sentiment"] == "positive"
    assert len(served["revenue-forecast-v1"]["prediction"]["forecast"]) == 6
    assert report["repeat"]["cached"] is True
    assert report["stats"]["lead-scoring-v1"]["total"] == 2
    assert all(h["status"] == "healthy" for h in report["health"].values())
    text = subprocess.run([CLI, "demo"], capture_output=True, text=True, check=True, cwd=tmp_path, env=env).stdout
    assert "Repeat of lead-scoring-v1: cached=True" in text
