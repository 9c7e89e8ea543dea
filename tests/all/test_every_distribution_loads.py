"""With every distribution installed together, each plugin loads in strict mode and none imports an SDK
at start-up: what a real deployment that installs everything sees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).parent / "hotcrm-ai")
DISTRIBUTIONS = {
    "hotcrm-ai-plugins",
    "hotcrm-ai-openai",
    "hotcrm-ai-sagemaker",
    "hotcrm-ai-azureml",
    "hotcrm-ai-anthropic",
    "hotcrm-ai-dask",
    "hotcrm-ai-server",
}
COMMANDS_ONLY = {"hotcrm-ai-server"}  # adds `hotcrm-ai serve` through register_commands, registers no part


def test_every_plugin_loads_strictly_and_registers_something() -> None:
    env = {**os.environ, "HOTCRM_AI_STRICT_PLUGINS": "1"}
    out = subprocess.run([CLI, "plugins", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    records = json.loads(out.stdout)
    by_dist = {r["distribution"]: r for r in records if r["source"] == "entrypoint"}
    assert set(by_dist) >= DISTRIBUTIONS, sorted(by_dist)
    assert all(not r["errors"] for r in records), [r["errors"] for r in records if r["errors"]]
    assert all(r["registered"] for d, r in by_dist.items() if d not in COMMANDS_ONLY)
    help_text = subprocess.run([CLI, "--help"], capture_output=True, text=True, env=env, timeout=120).stdout
    assert "serve" in help_text and "score" in help_text


def test_no_sdk_is_imported_by_loading_every_plugin() -> None:
    code = (
        "import sys; from hotcrm_ai.plugins import PluginHost; PluginHost(strict=True); "
        "print(sorted(m for m in ('openai', 'boto3', 'botocore', 'azure.ai.ml', 'anthropic', 'dask', 'grpc',"
        " 'starlette', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
