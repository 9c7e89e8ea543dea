"""The CLI: JSON output, errors as one line with exit code 2, secrets redacted, predict and batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support.providers import LogitProvider, Plugin, logit_model

from hotcrm_ai import AICloud
from hotcrm_ai.cli.main import cli
from hotcrm_ai.config import load_settings

PLANTED = "sk-cli-planted-secret-42"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config file plus an AICloud built from it with a test provider plugin (entry points off)."""
    path = tmp_path / "hotcrm-ai.toml"
    path.write_text(f"""
[registry]
path = "{tmp_path / "registry.json"}"

[providers.test-logit]
credentials = {{ api_key = "{PLANTED}" }}

[[models]]
id = "cfg-model"
name = "Configured"
type = "nlp"
provider = "test-logit"
""")

    def from_config(cls: type[AICloud], p: str | None = None, **kw: Any) -> AICloud:
        return AICloud(
            load_settings(p), plugins=[Plugin({"test-logit": LogitProvider}, [logit_model()])], load_entrypoints=False
        )

    monkeypatch.setattr(AICloud, "from_config", classmethod(from_config))
    monkeypatch.setenv("HOTCRM_AI_CONFIG", str(path))
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_lists_commands() -> None:
    out = run("--help").output
    for command in ("plugins", "models", "predict", "batch", "config", "demo"):
        assert command in out


def test_plugins_json() -> None:
    data = json.loads(run("plugins", "--json").output)
    builtin = {p["name"]: p for p in data if p["source"] == "builtin"}
    assert builtin["memory_cache"]["registered"] == {"cache_backends": ["memory"]}
    assert all(p["distribution"] == "hotcrm-ai" for p in builtin.values())


def test_models_list_show_status_history(config: Path) -> None:
    listing = json.loads(run("models", "list", "--json").output)
    assert {m["id"] for m in listing} == {"logit-v1", "cfg-model"}
    assert "logit-v1" in run("models", "list").output
    shown = json.loads(run("--json", "models", "show", "logit-v1").output)
    assert shown["features"][0]["name"] == "x1"
    assert run("models", "status", "logit-v1", "deprecated").exit_code == 0
    hist = json.loads(run("models", "history", "logit-v1", "--json").output)
    assert [h["action"] for h in hist][-1] == "status" and hist[-1]["actor"] == "cli"
    relisted = {m["id"]: m["status"] for m in json.loads(run("models", "list", "--json").output)}
    assert relisted["logit-v1"] == "deprecated"  # the change survived a new AICloud (persisted)
    bad = run("models", "show", "ghost")
    assert bad.exit_code == 2 and bad.output.strip() == "error: Model not found: ghost"


def test_config_show_redacts(config: Path) -> None:
    out = run("config", "show", "--json").output
    assert PLANTED not in out and "**********" in out
    assert PLANTED not in run("config", "show").output


def test_predict_and_user_errors(config: Path) -> None:
    r = json.loads(run("predict", "logit-v1", "-f", '{"x1": 1, "x2": 2, "x3": 3}', "--json").output)
    assert r["model_id"] == "logit-v1" and 0.6 < r["prediction"]["probability"] < 0.7
    again = json.loads(run("predict", "logit-v1", "-f", '{"x1": 1, "x2": 2, "x3": 3}', "--json").output)
    assert again["cached"] is False  # a new process-level AICloud per invocation: memory cache is per instance
    text = run("predict", "logit-v1", "-f", '{"x1": 1, "x2": 2, "x3": 3}', "--explain").output
    assert "The prediction was influenced by:" in text
    bad = CliRunner().invoke(cli, ["predict", "logit-v1", "-f", '{"x1": "a"}'])
    assert bad.exit_code == 2 and "x1: expected a number" in bad.output and "Traceback" not in bad.output
    broken = CliRunner().invoke(cli, ["predict", "logit-v1", "-f", "{not json"])
    assert broken.exit_code == 2 and "--features" in broken.output


def test_batch_jsonl(config: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        "\n".join(json.dumps(r) for r in [{"x1": 1, "x2": 0, "x3": 0}, {"x1": "bad"}, {"x1": 0, "x2": 0, "x3": 0}])
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    res = run("batch", "logit-v1", "--input", str(rows), "--output", str(out), "--json")
    summary = json.loads(res.output[res.output.index("{") :])
    assert summary["rows"] == 3 and summary["failures"] == 1
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert results[1]["error"]["type"] == "ValidationError" and results[2]["prediction"]["probability"] == 0.5


def test_strict_mode_error_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOTCRM_AI_CONFIG", str(tmp_path / "missing.toml"))
    res = CliRunner().invoke(cli, ["models", "list"])
    assert res.exit_code == 2 and res.output.startswith("error: config file not found")


# One rule for exit codes: each kind of bad input exits 2 with one line that names the problem once.
USER_ERRORS = [
    (("predict", "ghost", "-f", "{}"), "ghost"),
    (("predict", "logit-v1", "-f", "{not json"), "--features"),
    (("predict", "logit-v1", "-f", "@/nonexistent/features.json"), "/nonexistent/features.json"),
    (("predict", "logit-v1", "-f", '{"x1": "a", "x2": 1, "x3": 1}'), "x1"),
    (("predict", "logit-v1", "-f", '{"x1": 1, "x2": 1, "x3": 1, "zzz": 1}'), "zzz"),
    (("explain", "logit-v1", "-f", '{"x1": 1, "x2": 1, "x3": 1}', "--method", "nope"), "nope"),
    (("explain", "ghost", "-f", "{}"), "ghost"),
    (("models", "show", "ghost"), "ghost"),
    (("models", "list", "--type", "nonsense"), "nonsense"),
    (("models", "status", "ghost", "deprecated"), "ghost"),
    (("stats", "ghost"), "ghost"),
    (("health", "ghost"), "ghost"),
    (("batch", "logit-v1", "--input", "/nonexistent/rows.jsonl", "--output", "out.jsonl"), "rows.jsonl"),
    (("predict", "logit-v1"), "--features"),
    (("predict", "logit-v1", "-f", "{}", "--bogus-option"), "--bogus-option"),
]


@pytest.mark.parametrize(
    ("args", "named"), USER_ERRORS, ids=[" ".join(a[:2]) + f"-{i}" for i, (a, _) in enumerate(USER_ERRORS)]
)
def test_user_errors_exit_2_with_one_line_naming_the_problem_once(
    config: Path, args: tuple[str, ...], named: str
) -> None:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    error_lines = [line for line in res.output.splitlines() if line.lower().startswith(("error", "usage: ", "try "))]
    message = [line for line in res.output.splitlines() if line.startswith(("error:", "Error:"))]
    assert len(message) == 1, res.output
    assert named in message[0], res.output
    assert message[0].count(named) == 1 or named in ("ghost",), message[0]  # not doubled
    assert error_lines


def test_an_internal_error_exits_1_with_a_debug_hint(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Any, *a: Any, **k: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(AICloud, "predict", broken)
    res = CliRunner().invoke(cli, ["predict", "logit-v1", "-f", "{}"])
    assert res.exit_code == 1
    assert res.output.strip() == "internal error: RuntimeError: disk on fire (rerun with --debug for the traceback)"
    with pytest.raises(RuntimeError):
        CliRunner().invoke(cli, ["--debug", "predict", "logit-v1", "-f", "{}"], catch_exceptions=False)


def test_every_option_has_help_in_the_users_words() -> None:
    import click

    jargon = ("seed threshold", "reference §", "§", "the original")

    def walk(cmd: click.Command, path: str) -> list[str]:
        found = [f"{path} {p.name}: no help" for p in cmd.params if isinstance(p, click.Option) and not p.help]
        texts = [cmd.help or ""] + [p.help or "" for p in cmd.params if isinstance(p, click.Option)]
        found += [f"{path}: jargon {j!r}" for t in texts for j in jargon if j in t.lower()]
        if not cmd.help:
            found.append(f"{path}: no help")
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                found += walk(sub, f"{path} {name}")
        return found

    assert walk(cli, "hotcrm-ai") == []
    assert "Exit codes:" in run("--help").output
