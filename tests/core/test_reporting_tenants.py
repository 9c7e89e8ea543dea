"""Written as the attacks: a two-tenant analytics database, questions without a tenant, one tenant's
value names probed from the other, ATTACH and extension loading on the analytics connection, and a
database URL whose driver is missing."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from support.reporting import engine_for, file_hash, make_demo_sqlite
from support.reporting_questions import NOW

from hotcrm_ai.cli import reporting as reporting_cli
from hotcrm_ai.cli.context import CLIContext
from hotcrm_ai.cloud import AICloud
from hotcrm_ai.config import ReportingSettings, Settings
from hotcrm_ai.errors import ReportingError, ValidationError
from hotcrm_ai.reporting.execute import ReadOnlyExecutor, missing_driver_message

TENANT_TABLES = ("account", "contact", "lead", "opportunity", "case")
SECRET_INDUSTRY = "Zeppelin Salvage"  # only Globex has accounts in it
SECRET_ACCOUNT = "Globex Hidden Holdings"


@pytest.fixture(scope="module")
def two_tenants(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo database split between tenants 'acme' (even ids) and 'globex' (odd ids), with an
    industry and an account name that exist only at Globex."""
    directory = tmp_path_factory.mktemp("reporting-tenants")
    db = directory / "two.sqlite"
    shutil.copy(make_demo_sqlite(directory), db)
    con = sqlite3.connect(db)
    for table in TENANT_TABLES:
        con.execute(f'ALTER TABLE "{table}" ADD COLUMN tenant_id TEXT')
        con.execute(f"UPDATE \"{table}\" SET tenant_id = CASE WHEN id % 2 = 0 THEN 'acme' ELSE 'globex' END")
    con.execute("UPDATE account SET industry = ? WHERE id IN (1, 3, 5)", (SECRET_INDUSTRY,))
    con.execute("UPDATE account SET name = ? WHERE id = 7", (SECRET_ACCOUNT,))
    con.commit()
    con.close()
    tenant_field = {"type": "string", "label": "Tenant"}
    catalogue = directory / "tenants.json"
    catalogue.write_text(
        json.dumps(
            {
                "tenant_column": "tenant_id",
                "objects": {t: {"fields": {"tenant_id": tenant_field}} for t in TENANT_TABLES},
            }
        )
    )
    return db, catalogue


@pytest.fixture()
def engine(two_tenants: tuple[Path, Path]) -> Any:
    db, catalogue = two_tenants
    eng = engine_for(f"sqlite:///{db}", catalogue=str(catalogue))
    yield eng
    eng.close()


def _one(db: Path, sql: str, *params: Any) -> Any:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()


def test_a_question_without_a_tenant_is_refused(engine: Any) -> None:
    with pytest.raises(ValidationError, match="tenant"):
        engine.ask("how many accounts", now=NOW)
    with pytest.raises(ValidationError, match="tenant"):
        engine.query(["revenue"])
    everyone = engine.ask("how many accounts", now=NOW, all_tenants=True)
    assert everyone.rows == [{"count": 2000}]  # the explicit opt-out


def test_each_tenant_sees_its_own_rows(engine: Any, two_tenants: tuple[Path, Path]) -> None:
    db, _ = two_tenants
    for tenant in ("acme", "globex"):
        want = _one(
            db,
            "SELECT SUM(amount) FROM opportunity WHERE stage = 'closed_won' AND tenant_id = ?",
            tenant,
        )
        assert engine.ask("total revenue", now=NOW, tenant=tenant).rows[0]["revenue"] == pytest.approx(want)
        assert engine.query(["revenue"], tenant=tenant).rows[0]["revenue"] == pytest.approx(want)
        n = _one(db, "SELECT COUNT(*) FROM account WHERE tenant_id = ?", tenant)
        assert engine.ask("how many accounts", now=NOW, context={"tenant": tenant}).rows == [{"count": n}]


def test_one_tenants_values_never_reach_another(engine: Any) -> None:
    """Acme cannot learn that Globex has a 'Zeppelin Salvage' industry or a 'Globex Hidden Holdings'
    account: those words are unknown to Acme's questions and absent from what a translator is shown."""
    acme = engine.catalogue_for("acme")
    assert SECRET_INDUSTRY not in acme.values["account.industry"]
    assert SECRET_ACCOUNT not in acme.values["account.name"]
    assert SECRET_INDUSTRY not in json.dumps(acme.describe())
    for question in (f"how many accounts in {SECRET_INDUSTRY}", f"revenue from {SECRET_ACCOUNT}"):
        res = engine.ask(question, now=NOW, tenant="acme")
        assert not res.understood and res.rows == []
        assert SECRET_INDUSTRY not in " ".join(res.suggestions) and SECRET_ACCOUNT not in " ".join(res.suggestions)
    globex = engine.ask(f"how many accounts in {SECRET_INDUSTRY}", now=NOW, tenant="globex")
    assert globex.understood and globex.rows == [{"count": 3}]
    named = engine.ask(f"revenue from {SECRET_ACCOUNT}", now=NOW, tenant="globex")
    assert named.understood and named.query.filters[0].value == SECRET_ACCOUNT


def test_an_object_without_the_tenant_column_is_never_answered_for_a_tenant(engine: Any) -> None:
    assert not engine.ask("how many campaigns", now=NOW, tenant="acme").understood


def test_cli_ask_takes_the_tenant(two_tenants: tuple[Path, Path], tmp_path: Path) -> None:
    db, catalogue = two_tenants

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = c = CLIContext(config=None, json_output=False, debug=False)
        settings = ReportingSettings(database_url=f"sqlite:///{db}", catalogue=str(catalogue))
        c._cloud = AICloud(Settings(reporting=settings), load_entrypoints=False)
        ctx.call_on_close(c.close)

    reporting_cli.register(root)
    runner = CliRunner()
    with pytest.raises(ValidationError, match="tenant"):  # the CLI's root turns this into exit code 2
        runner.invoke(root, ["ask", "how many accounts"], catch_exceptions=False)
    out = runner.invoke(root, ["ask", "how many accounts", "--tenant", "acme", "--json"], catch_exceptions=False)
    assert json.loads(out.output)["rows"] == [{"count": 1000}]
    out = runner.invoke(root, ["ask", "how many accounts", "--all-tenants", "--json"], catch_exceptions=False)
    assert json.loads(out.output)["rows"] == [{"count": 2000}]


def test_sqlite_analytics_connection_refuses_attach_and_extensions(tmp_path: Path) -> None:
    demo = make_demo_sqlite(tmp_path)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).close()
    before, before_other = file_hash(demo), file_hash(other)
    ex = ReadOnlyExecutor(f"sqlite:///{demo}")
    attacks = (
        f"ATTACH DATABASE '{other}' AS other",
        "ATTACH DATABASE ':memory:' AS scratch",
        "SELECT load_extension('/tmp/evil')",
        "PRAGMA query_only = 0",
        "PRAGMA writable_schema = 1",
    )
    for stmt in attacks:
        with pytest.raises(sa.exc.DatabaseError, match="not authorized"), ex.read_only_connection() as conn:
            conn.exec_driver_sql(stmt)
    # the connection still reads afterwards, and neither file changed
    assert ex.run(sa.select(sa.func.count()).select_from(sa.table("account"))).rows == [(2000,)]
    ex.close()
    assert file_hash(demo) == before and file_hash(other) == before_other


def test_a_missing_driver_is_one_line_naming_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(ReportingError) as info:
        ReadOnlyExecutor("postgresql+pg8000://user:hunter2@127.0.0.1/crm")
    message = str(info.value)
    assert "\n" not in message and "pip install pg8000" in message and "hunter2" not in message
    with pytest.raises(ReportingError, match=r"pip install mysqlclient"):
        ReadOnlyExecutor("mysql://user:hunter2@127.0.0.1/crm")
    # psycopg is what the [postgres] extra installs: its absence names the extra
    url = sa.make_url("postgresql+psycopg://user:hunter2@127.0.0.1/crm")
    message = missing_driver_message(url, ModuleNotFoundError("No module named 'psycopg'", name="psycopg"))
    assert "pip install 'hotcrm-ai[postgres]'" in message and "hunter2" not in message


def test_cli_missing_driver_exits_2_with_one_line() -> None:
    from hotcrm_ai.cli.main import cli

    out = CliRunner().invoke(cli, ["ask", "revenue", "--db", "mysql+pymysql://u:hunter2@127.0.0.1/crm"])
    assert out.exit_code == 2
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install pymysql" in lines[0].lower() and "hunter2" not in out.output
    out = CliRunner().invoke(cli, ["demo-data", "--db", "postgresql+pg8000://u:hunter2@127.0.0.1/crm"])
    assert out.exit_code == 2 and "pip install pg8000" in out.output and "hunter2" not in out.output
    assert len([line for line in out.output.splitlines() if line.strip()]) == 1
