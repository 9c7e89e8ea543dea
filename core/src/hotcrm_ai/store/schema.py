"""Schema versions through Alembic, run programmatically from the migrations shipped in this package.

A store with no tables is created at the newest version on first use (zero set-up for one user).
A store at an older version is refused with the command that upgrades it; one at a version this
hotcrm-ai does not know (made by a newer release) is refused and never written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotcrm_ai.errors import StoreSchemaError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection, Engine

UPGRADE_COMMAND = "hotcrm-ai store upgrade"
_LOCK_KEY = 0x484352_4D4149  # "HCRMAI": the advisory lock that serialises migrations on PostgreSQL
HEAD = "0002"  # the newest migration (a test checks it against the scripts): start-up needs no Alembic


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "hotcrm_ai.store:migrations")
    return cfg


def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head() -> str:
    found = _scripts().get_current_head()
    assert found is not None
    return found


def current(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _has_tables(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(conn).get_table_names())


def _take_turns(conn: Connection) -> None:
    """On PostgreSQL, wait for any other process's migration (an advisory lock held until this
    transaction ends): processes starting together on an empty database take turns."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy import text

        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def upgrade(engine: Engine, target: str = "head") -> str:
    """Apply migrations up to ``target``; refuses a store newer than this release. Returns the version."""
    from alembic import command

    with engine.begin() as conn:
        _take_turns(conn)
        version = current(conn)
        if version is not None and not _known(version):
            raise _newer(version)
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)
        found = current(conn)
    assert found is not None
    return found


def _stored_version(conn: Connection) -> str | None:
    """``alembic_version`` read directly: importing Alembic and parsing the scripts costs ~0.5 s."""
    from sqlalchemy import inspect, text

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def check(engine: Engine) -> str:
    """Make sure the store is usable at the newest version: create it when empty, else refuse."""
    with engine.connect() as conn:
        version = _stored_version(conn)
    if version == HEAD:
        return version
    with engine.begin() as conn:
        # read again once no other process is migrating: another process's first start commits its
        # tables and its version at once, and a commit landing between a read of the version and a
        # read of the tables would look like tables with no version
        _take_turns(conn)
        version = _stored_version(conn)
        empty = version is None and not _has_tables(conn)
    if empty:
        return upgrade(engine)
    newest = head()
    if version == newest:
        return version
    if version is None:
        raise StoreSchemaError("the store database has tables but no hotcrm-ai schema version; refused")
    if _known(version):
        raise StoreSchemaError(
            f"the store is at schema version {version}, older than {newest}: run `{UPGRADE_COMMAND}`"
        )
    raise _newer(version)


def _known(version: str) -> bool:
    from alembic.util import CommandError

    try:
        return _scripts().get_revision(version) is not None
    except CommandError:
        return False


def _newer(version: str) -> StoreSchemaError:
    return StoreSchemaError(
        f"the store is at schema version {version}, newer than this hotcrm-ai knows ({head()}): "
        "upgrade hotcrm-ai; the store was not written"
    )
