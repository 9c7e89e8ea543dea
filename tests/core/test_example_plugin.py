"""A real third-party distribution, pip-installed: discovered through its entry point with no change
to our code (provider, model and CLI command), then uninstalled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hotcrm-ai-example"
BIN = Path(sys.executable).parent


def run(*args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), capture_output=True, text=True, check=check, env={**os.environ, **(env or {})}, timeout=300
    )


@pytest.fixture(scope="module")
def installed() -> Iterator[None]:
    run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", str(EXAMPLE))
    try:
        yield
    finally:
        run(sys.executable, "-m", "pip", "uninstall", "-q", "-y", "hotcrm-ai-example")


def cli(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(str(BIN / "hotcrm-ai"), *args, env=env, check=check)


def test_discovered_through_the_entry_point(installed: None) -> None:
    plugins = json.loads(cli("plugins", "--json").stdout)
    example = next(p for p in plugins if p["name"] == "example")
    assert example["distribution"] == "hotcrm-ai-example" and example["version"] == "0.1.0"
    assert example["registered"] == {"providers": ["example-logit"], "models": ["deal-win-example-v1@1.0.0"]}
    assert example["errors"] == []


def test_its_model_serves_predictions(installed: None) -> None:
    out = cli(
        "predict", "deal-win-example-v1", "-f", '{"stage": "negotiation", "amount": 1000, "activities": 10}', "--json"
    )
    result = json.loads(out.stdout)
    # sigmoid(1.1 + 0.8 - 0.3)
    assert result["prediction"]["win_probability"] == pytest.approx(0.832018, abs=1e-6)
    assert result["model_id"] == "deal-win-example-v1"
    bad = cli("predict", "deal-win-example-v1", "-f", '{"stage": "won", "amount": -1}', check=False)
    assert bad.returncode == 2
    assert "stage: expected one of" in bad.stderr and "amount: expected a value >= 0" in bad.stderr
    assert "activities" in bad.stderr and "Traceback" not in bad.stderr


def test_its_cli_command_and_selection(installed: None) -> None:
    """The example plugin's register_commands hook adds `example-stages` to the real CLI."""
    assert cli("example-stages").stdout.startswith("prospecting\t-1.5")
    disabled = json.loads(cli("plugins", "--json", env={"HOTCRM_AI_DISABLE_PLUGINS": "example"}).stdout)
    assert "example" not in [p["name"] for p in disabled]
    only = json.loads(cli("plugins", "--json", env={"HOTCRM_AI_LOAD_PLUGINS": "example"}).stdout)
    assert {p["name"] for p in only if p["source"] == "entrypoint"} == {"example"}


def test_uninstall_removes_it(installed: None) -> None:
    run(sys.executable, "-m", "pip", "uninstall", "-q", "-y", "hotcrm-ai-example")
    names = [p["name"] for p in json.loads(cli("plugins", "--json").stdout)]
    assert "example" not in names and "memory_cache" in names
    assert cli("predict", "deal-win-example-v1", "-f", "{}", check=False).returncode == 2  # unknown model
