"""Attack: a configuration or registry file (data) tries to choose code to run. Nothing runs; the
command exits 2 naming the field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).parent / "hotcrm-ai")


def _payload(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "PWNED"
    script = tmp_path / "evil.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('ran')\n", encoding="utf-8")
    return script, marker


def _run(tmp_path: Path, config: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "hotcrm-ai.toml"
    path.write_text(config, encoding="utf-8")
    env = {**os.environ, "HOTCRM_AI_CONFIG": str(path), "HOTCRM_AI_LOAD_PLUGINS": "standard"}
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


@pytest.mark.parametrize("runner", ["runpy:run_path", "os:system", "builtins:exec", "subprocess:Popen"])
def test_a_models_entry_cannot_name_a_callable(tmp_path: Path, runner: str) -> None:
    script, marker = _payload(tmp_path)
    res = _run(
        tmp_path,
        f"""
[[models]]
id = "evil"
name = "Evil"
type = "regression"
provider = "custom"
parameters = {{ runner = "{runner}", artifact = "{script.name}", artifact_dir = "{tmp_path}" }}
features = [{{ name = "x", dtype = "number" }}]
""",
        "predict",
        "evil",
        "-f",
        '{"x": 1}',
    )
    assert res.returncode == 2, res.stdout + res.stderr
    assert "parameters.runner" in res.stderr and "Traceback" not in res.stderr
    assert not marker.exists(), "a data file made the CLI run code"


def test_a_registry_file_cannot_name_a_callable(tmp_path: Path) -> None:
    script, marker = _payload(tmp_path)
    registry = tmp_path / "registry.json"
    model = {
        "id": "evil",
        "name": "Evil",
        "type": "regression",
        "provider": "custom",
        "parameters": {"runner": "runpy:run_path", "artifact": script.name, "artifact_dir": str(tmp_path)},
        "features": [{"name": "x", "dtype": "number"}],
    }
    base = _run(tmp_path, f'[registry]\npath = "{registry}"\n', "models", "list", "--json")
    assert base.returncode == 0, base.stderr
    data = json.loads(registry.read_text(encoding="utf-8")) if registry.exists() else None
    if data is None:  # the registry writes its file on the first change: make one
        status = _run(tmp_path, f'[registry]\npath = "{registry}"\n', "models", "status", "lead-scoring-v1", "active")
        assert status.returncode == 0, status.stderr
        data = json.loads(registry.read_text(encoding="utf-8"))
    data_text = json.dumps(data)
    assert "lead-scoring-v1" in data_text
    models = data["models"] if isinstance(data, dict) and "models" in data else None
    assert isinstance(models, list), f"unexpected registry layout: {data_text[:300]}"
    models.append(model)
    registry.write_text(json.dumps(data), encoding="utf-8")
    res = _run(tmp_path, f'[registry]\npath = "{registry}"\n', "predict", "evil", "-f", '{"x": 1}')
    assert res.returncode == 2, res.stdout + res.stderr
    assert "parameters.runner" in res.stderr, res.stderr  # the model loaded, and its runner was refused
    assert not marker.exists(), "a registry file made the CLI run code"


def test_an_artifact_path_cannot_leave_its_folder(tmp_path: Path) -> None:
    res = _run(
        tmp_path,
        """
[[models]]
id = "escape"
name = "Escape"
type = "classification"
provider = "custom"
parameters = { runner = "lead_scoring", artifact = "../../../../etc/passwd" }
features = [{ name = "x", dtype = "number" }]
""",
        "predict",
        "escape",
        "-f",
        '{"x": 1}',
    )
    assert res.returncode == 2 and "parameters]: artifact: expected a file name inside" in res.stderr, res.stderr


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("endpoint", "https://svc:hunter2@scoring.example/score"),
        ("endpoint", "https://scoring.example/score?code=abc123"),
        ("parameters", {"api_key": "sk-literal-in-a-data-file"}),
    ],
)
def test_the_registry_file_refuses_literal_secrets_anywhere_in_a_model(
    tmp_path: Path, field: str, value: object
) -> None:
    from hotcrm_ai.errors import RegistryError
    from hotcrm_ai.registry import ModelRegistry
    from hotcrm_ai.types import ModelConfig

    registry = ModelRegistry(tmp_path / "registry.json")
    model = ModelConfig(id="leaky", name="Leaky", type="regression", provider="custom", **{field: value})
    with pytest.raises(RegistryError, match="literal secrets"):
        registry.register(model)
    assert not (tmp_path / "registry.json").exists() or "leaky" not in (tmp_path / "registry.json").read_text()
