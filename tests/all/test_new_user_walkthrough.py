"""A new user's first hour, in a real pseudo-terminal: the README's first command in a fresh virtual
environment, then a scripted walk through the CLI, checking exit codes, the progress bar (shown on a
terminal, not in a pipe) and that no line printed is a traceback."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def readme_first_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)\n```", text, re.S)
    assert block, "README.md has no bash block"
    return block.group(1).strip()


def in_terminal(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> tuple[int, str]:
    """Run ``argv`` with stdin/stdout/stderr on a pseudo-terminal; return its exit code and screen text."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                proc.kill()
                raise AssertionError(f"{argv} printed nothing for {timeout} s")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    code = proc.wait(timeout=timeout)
    text = ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))
    return code, text.replace("\r\n", "\n").replace("\r", "\n")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The README's first command, verbatim, in an empty folder holding only the sources it names."""
    work = tmp_path_factory.mktemp("newuser")
    for folder in ("core", "plugins"):
        (work / folder).symlink_to(ROOT / folder, target_is_directory=True)
    home = work / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTCRM_AI_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(
        HOME=str(home),
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        TERM="xterm",
        COLUMNS="100",
        LINES="40",
    )
    result = subprocess.run(
        ["bash", "-c", readme_first_command()], cwd=work, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "lead-scoring-v1" in result.stdout and "Traceback" not in result.stdout + result.stderr
    env["PATH"] = f"{work / '.venv' / 'bin'}:{env['PATH']}"
    return work, env


def hotcrm(fresh: tuple[Path, dict[str, str]], *args: str) -> tuple[int, str]:
    work, env = fresh
    code, screen = in_terminal([str(work / ".venv" / "bin" / "hotcrm-ai"), *args], env, work)
    assert "Traceback" not in screen, screen
    return code, screen


def test_walkthrough(fresh: tuple[Path, dict[str, str]]) -> None:
    work, env = fresh
    code, screen = hotcrm(fresh, "plugins")
    assert code == 0 and "standard" in screen and "ERRORS" not in screen

    code, screen = hotcrm(fresh, "models", "list")
    assert code == 0
    ids = [line.split()[0] for line in screen.splitlines()[1:] if line.strip()]
    assert {
        "lead-scoring-v1",
        "churn-prediction-v1",
        "sentiment-analysis-v1",
        "revenue-forecast-v1",
        "product-recommendation-v1",
    } <= set(ids)

    code, screen = hotcrm(fresh, "models", "show", "lead-scoring-v1")
    assert code == 0 and "roc_auc" in screen
    assert len(screen.strip().splitlines()) <= 60, "models show must fit on a screen"

    for model_id in (
        "lead-scoring-v1",
        "churn-prediction-v1",
        "sentiment-analysis-v1",
        "revenue-forecast-v1",
        "product-recommendation-v1",
    ):
        shown = subprocess.run(
            [str(work / ".venv" / "bin" / "hotcrm-ai"), "models", "show", model_id, "--json"],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            check=True,
        )
        example = json.loads(shown.stdout)["parameters"]["example"]
        code, screen = hotcrm(fresh, "predict", model_id, "-f", json.dumps(example))
        assert code == 0 and f"model:      {model_id}" in screen, screen
        code, screen = hotcrm(fresh, "explain", model_id, "-f", json.dumps(example))
        assert code == 0, screen

    code, screen = hotcrm(fresh, "predict", "lead-scoring-v1", "-f", '{"age": "old"}')
    assert code == 2 and len([line for line in screen.splitlines() if line.startswith("error:")]) == 1

    shown = subprocess.run(
        [str(work / ".venv" / "bin" / "hotcrm-ai"), "models", "show", "churn-prediction-v1", "--json"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    good = json.loads(shown.stdout)["parameters"]["example"]
    rows = work / "rows.jsonl"
    rows.write_text("\n".join(json.dumps(r) for r in [good, {"tenure": "bad"}, good] * 40) + "\n", encoding="utf-8")
    out = work / "out.jsonl"
    code, screen = hotcrm(fresh, "batch", "churn-prediction-v1", "--input", str(rows), "--output", str(out))
    assert code == 0 and "predicting" in screen, "the progress bar shows on a terminal"
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(results) == 120 and sum(r["error"] is not None for r in results) == 40
    piped = subprocess.run(
        [
            str(work / ".venv" / "bin" / "hotcrm-ai"),
            "batch",
            "churn-prediction-v1",
            "--input",
            str(rows),
            "--output",
            str(out),
        ],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 0 and "predicting" not in piped.stderr + piped.stdout, "no bar in a pipe"

    code, screen = hotcrm(fresh, "ask", "total revenue this year")
    assert code == 0 and "$" in screen
    code, screen = hotcrm(fresh, "ask", "what colour is the moon")
    assert code == 3
