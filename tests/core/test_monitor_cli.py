"""``hotcrm-ai stats`` / ``health`` on a real AICloud that served real predictions (one model
healthy, one whose provider is down)."""

from __future__ import annotations

import json
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from support.providers import FlakyProvider, LogitProvider, Plugin, logit_model

from hotcrm_ai.cli import monitor as monitor_cli
from hotcrm_ai.cli.context import CLIContext
from hotcrm_ai.config import PredictionSettings, Settings
from hotcrm_ai.errors import PredictionError
from hotcrm_ai.types import ProviderConfig


@pytest.fixture(scope="module")
def ctx() -> Any:
    from hotcrm_ai.cloud import AICloud

    plugin = Plugin(
        providers={"test-logit": LogitProvider, "test-flaky": FlakyProvider},
        models=[logit_model(), logit_model("down-v1", provider="test-flaky"), logit_model("idle-v1")],
    )
    settings = Settings(
        prediction=PredictionSettings(retries=0),
        providers={"test-flaky": ProviderConfig(provider="test-flaky", config={"down": True})},
    )
    c = CLIContext(config=None, json_output=False, debug=False)
    c._cloud = ai = AICloud(settings, plugins=[plugin], load_entrypoints=False)
    for x in range(6):
        ai.predict("logit-v1", {"x1": float(x), "x2": 0.0, "x3": 1.0})
    ai.predict("logit-v1", {"x1": 0.0, "x2": 0.0, "x3": 1.0})  # a cache hit
    for x in range(3):
        with pytest.raises(PredictionError):
            ai.predict("down-v1", {"x1": float(x), "x2": 0.0, "x3": 1.0})
    yield c
    c.close()


def run(ctx: CLIContext, args: list[str]) -> Result:
    ctx.json_output = False

    @click.group()
    @click.pass_context
    def root(c: click.Context) -> None:
        c.obj = ctx

    monitor_cli.register(root)
    return CliRunner().invoke(root, args, catch_exceptions=False)


def test_stats_table_for_every_model(ctx: CLIContext) -> None:
    result = run(ctx, ["stats"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["model", "variant", "total", "fail"]
    logit = next(line.split() for line in lines if line.startswith("logit-v1"))
    down = next(line.split() for line in lines if line.startswith("down-v1"))
    assert logit[1:6] == ["all", "7", "0", "0.0", "14.3"]  # 1 of 7 from the cache
    assert down[1:5] == ["all", "3", "3", "100.0"]


def test_stats_json_for_one_model_and_window(ctx: CLIContext) -> None:
    result = run(ctx, ["stats", "logit-v1", "--window", "3600", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["model_id"] == "logit-v1" and data["total"] == 7 and data["cached"] == 1
    assert data["window_s"] == 3600 and data["latency_p95_ms"] >= data["latency_p50_ms"] >= 0


def test_stats_for_a_model_without_events(ctx: CLIContext) -> None:
    result = run(ctx, ["stats", "idle-v1"])
    assert result.exit_code == 0 and result.output.strip() == "No predictions recorded for idle-v1."
    assert json.loads(run(ctx, ["stats", "idle-v1", "--json"]).output) is None


def test_stats_rejects_a_bad_window(ctx: CLIContext) -> None:
    result = run(ctx, ["stats", "--window", "0"])
    assert result.exit_code == 2 and "--window" in result.output


def test_health_of_every_registered_model(ctx: CLIContext) -> None:
    result = run(ctx, ["health"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split(maxsplit=2)[1:] for line in result.output.splitlines()[1:]}
    assert rows["logit-v1"] == ["healthy"]
    assert rows["down-v1"] == ["unhealthy", "High error rate: 100.0%"]
    assert rows["idle-v1"] == ["healthy", "No recent predictions"]
    data = json.loads(run(ctx, ["health", "--json"]).output)
    assert data["down-v1"]["status"] == "unhealthy" and data["down-v1"]["stats"]["failures"] == 3


def test_health_of_one_model_and_strict_exit_code(ctx: CLIContext) -> None:
    data = json.loads(run(ctx, ["health", "logit-v1", "--json"]).output)
    assert data["status"] == "healthy" and data["reason"] is None
    assert run(ctx, ["health", "logit-v1", "--strict"]).exit_code == 0
    failing = run(ctx, ["health", "down-v1", "--strict"])
    assert failing.exit_code == 1 and "High error rate: 100.0%" in failing.output
