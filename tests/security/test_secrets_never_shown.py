"""Attack: plant fake secrets in every string that may carry one (cache URL and password, database
URLs, endpoints with user info or a ``?code=`` key) and look for them on every output surface."""

from __future__ import annotations

import json
import os
import pickle
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from hotcrm_ai.config import load_settings

CLI = str(Path(sys.executable).parent / "hotcrm-ai")
FAKE = {name: f"{name}-{secrets.token_hex(8)}" for name in ("redispw", "dbpw", "storepw", "userinfo", "code")}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "hotcrm-ai.toml"
    path.write_text(
        f"""
[cache]
backend = "memory"

[reporting]
database_url = "postgresql://crm:{FAKE["dbpw"]}@127.0.0.1:1/crm"

[store]
url = "memory"

[monitor]
sinks = ["memory"]

[[models]]
id = "remote-scorer"
name = "Remote scorer"
type = "regression"
provider = "azure-ml"
endpoint = "https://admin:{FAKE["userinfo"]}@127.0.0.1:1/score?code={FAKE["code"]}"
features = [{{ name = "x", dtype = "number" }}]
""",
        encoding="utf-8",
    )
    return path


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOTCRM_AI_CONFIG": str(config),
        "HOTCRM_AI_LOAD_PLUGINS": "standard,azureml",
        "HOTCRM_AI_LOG_LEVEL": "DEBUG",
    }
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=120)


def _assert_clean(text: str, where: str) -> None:
    for name, value in FAKE.items():
        assert value not in text, f"{name} shown in {where}"


@pytest.mark.parametrize(
    "args",
    [
        ("config", "show"),
        ("config", "show", "--json"),
        ("models", "show", "remote-scorer"),
        ("models", "show", "remote-scorer", "--json"),
        ("models", "list", "--json"),
        ("plugins", "--json"),
        ("predict", "remote-scorer", "-f", '{"x": 1}'),
        ("health", "remote-scorer"),
    ],
)
def test_no_command_shows_a_secret(config: Path, args: tuple[str, ...]) -> None:
    res = _cli(config, *args)
    _assert_clean(res.stdout + res.stderr, " ".join(args))


def test_settings_repr_and_pickle_hide_secrets(config: Path) -> None:
    settings = load_settings(config)
    _assert_clean(repr(settings), "repr(Settings)")
    try:
        data = pickle.dumps(settings)
    except Exception:  # refusing to pickle secrets is fine too
        return
    _assert_clean(data.decode("latin-1"), "pickle")
    restored = json.dumps(repr(pickle.loads(data)))
    _assert_clean(restored, "unpickled repr")
