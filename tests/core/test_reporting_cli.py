"""``hotcrm-ai ask`` and ``hotcrm-ai demo-data`` through click, on a real demo database."""

from __future__ import annotations

import json
import sqlite3
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
    from datetime import date

    stale = tmp_path / "home" / "demo.sqlite"  # what an older version left behind
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"not this one")
    out = run("demo-data")
    assert out.exit_code == 0
    built = tmp_path / "home" / f"demo-v2-{date.today().isoformat()}.sqlite"
    assert built.is_file() and stale.read_bytes() == b"not this one"  # demo-data leaves other files alone
    out = run("ask", "how many leads in 2025", "--now", "2026-11-25")
    assert out.exit_code == 0 and "Lead Count" in out.output


def test_the_embedded_demo_is_rebuilt_for_a_new_day_and_old_files_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from hotcrm_ai.reporting import demo_data

    monkeypatch.setenv("HOTCRM_AI_HOME", str(tmp_path))
    old = tmp_path / "demo.sqlite"
    old.write_bytes(b"built by an older version")
    yesterday = demo_data.default_demo_path(date(2020, 1, 1))
    yesterday.write_bytes(b"built another day")
    path = demo_data.ensure_demo_sqlite()
    assert path.name == f"demo-v2-{date.today().isoformat()}.sqlite" and path.stat().st_size > 100_000
    assert not old.exists() and not yesterday.exists()


def test_demo_history_ends_at_now() -> None:
    """Nothing in the demo data is dated after its ``now`` except what is a plan by nature (an open
    deal's expected close date, a running campaign's planned end)."""
    from datetime import date, datetime

    from hotcrm_ai.reporting.demo_data import generate

    now = date(2025, 3, 15)
    end = datetime(2025, 3, 15, 23, 59, 59)
    rows = generate(scale=0.1, now=now)
    for table in ("account", "contact", "lead", "opportunity", "case"):
        assert max(r["created_at"] for r in rows[table]) <= end, table
        assert min(r["created_at"] for r in rows[table]) >= datetime(2023, 1, 1), table
    closed = [r for r in rows["opportunity"] if r["stage"] in ("closed_won", "closed_lost")]
    assert closed and max(r["close_date"] for r in closed) <= now
    assert all(r["close_date"] > now for r in rows["opportunity"] if r not in closed)  # open: expected close
    assert max(r["resolved_at"] for r in rows["case"] if r["resolved_at"]) <= end
    assert max(r["converted_at"] for r in rows["lead"] if r["converted_at"]) <= end
    assert max(r["start_date"] for r in rows["campaign"]) <= now


def test_demo_data_now_option(run: Any, tmp_path: Path) -> None:
    db = tmp_path / "crm.sqlite"
    out = run("demo-data", "--db", f"sqlite:///{db}", "--now", "2026-06-30", "--json")
    assert out.exit_code == 0 and json.loads(out.output)["created"] is True
    con = sqlite3.connect(db)
    assert con.execute("SELECT MAX(created_at) FROM opportunity").fetchone()[0] < "2026-07-01"
    won_after = "SELECT COUNT(*) FROM opportunity WHERE stage = 'closed_won' AND close_date > '2026-06-30'"
    assert con.execute(won_after).fetchone()[0] == 0
    con.close()
    out = run("ask", "revenue this year", "--db", f"sqlite:///{db}", "--now", "2026-06-30", "--json")
    assert json.loads(out.output)["summary"]["period"].startswith("this year")
    from hotcrm_ai.errors import ValidationError

    with pytest.raises(ValidationError, match="--now"):
        run("demo-data", "--db", f"sqlite:///{tmp_path / 'x.sqlite'}", "--now", "yesterday-ish")
