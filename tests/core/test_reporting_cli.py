"""``hotcrm-ai ask`` and ``hotcrm-ai demo-data`` through click, on a real demo database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from support.reporting import file_hash

from hotcrm_ai.cli import reporting as reporting_cli
from hotcrm_ai.cli.context import CLIContext
from hotcrm_ai.config import Settings
from hotcrm_ai.errors import ReportingError


@pytest.fixture()
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from hotcrm_ai.cloud import AICloud

    monkeypatch.setenv("HOTCRM_AI_HOME", str(tmp_path / "home"))

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = c = CLIContext(config=None, json_output=False, debug=False)
        c._cloud = AICloud(Settings(), load_entrypoints=False)
        ctx.call_on_close(c.close)

    reporting_cli.register(root)
    runner = CliRunner()
    return lambda *args: runner.invoke(root, list(args), catch_exceptions=False)


def test_demo_data_and_ask(run: Any, tmp_path: Path) -> None:
    db = tmp_path / "crm.sqlite"
    out = run("demo-data", "--db", f"sqlite:///{db}")
    assert out.exit_code == 0 and "opportunity 5000" in out.output
    with pytest.raises(ReportingError, match="replace"):  # refuses to overwrite without --replace
        run("demo-data", "--db", f"sqlite:///{db}")
    before = file_hash(db)
    out = run("ask", "Revenue by region in 2025", "--db", f"sqlite:///{db}", "--now", "2026-11-25")
    assert out.exit_code == 0
    assert "North America" in out.output and "Showing 4 results for 2025." in out.output and "SELECT" in out.output
    out = run("ask", "win rate", "--db", f"sqlite:///{db}", "--json")
    data = json.loads(out.output)
    assert data["understood"] and 0 < data["rows"][0]["win_rate"] < 1 and data["columns"][0]["type"] == "percent"
    out = run("ask", "drop table account", "--db", f"sqlite:///{db}")
    assert out.exit_code == 3 and "read-only" in out.output
    assert file_hash(db) == before


def test_default_demo_database_in_home(run: Any, tmp_path: Path) -> None:
    out = run("demo-data")
    assert out.exit_code == 0 and (tmp_path / "home" / "demo.sqlite").is_file()
    out = run("ask", "how many leads in 2025", "--now", "2026-11-25")
    assert out.exit_code == 0 and "Lead Count" in out.output
