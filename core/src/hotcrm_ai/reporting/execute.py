"""Read-only execution with a row cap and a time limit, whatever the database.

Belt and braces: the compiler only makes SELECTs, and the connection itself cannot write —
SQLite is opened with ``mode=ro`` (plus ``PRAGMA query_only``), an authorizer that allows reading
only (no ``ATTACH``, no extension loading, no pragmas) and a progress handler that aborts past the
deadline; PostgreSQL runs every statement in a ``READ ONLY`` transaction with a
``statement_timeout``; any other database at least gets a rolled-back transaction.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs
import sqlalchemy as sa

from hotcrm_ai.errors import DatabaseURLError, ReportingError

# What an analytics connection may do: read tables and call functions, nothing else. ATTACH (another
# file), load_extension (native code) and every write or schema change are denied by SQLite itself.
_SQLITE_ALLOWED = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_TRANSACTION}
    | ({sqlite3.SQLITE_RECURSIVE} if hasattr(sqlite3, "SQLITE_RECURSIVE") else set())
)
_SQLITE_DENIED_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"})
# pragmas SQLAlchemy reads when it connects or inspects; reading only (a pragma given a value is denied)
_SQLITE_READ_PRAGMAS = frozenset({"read_uncommitted", "query_only", "table_info", "table_xinfo", "index_list"})

# (backend, driver) -> the extra of hotcrm-ai that installs that driver
DRIVER_EXTRAS = {("postgresql", "psycopg"): "postgres"}
# a URL without a driver ("postgresql://...") uses the driver the extra installs, not SQLAlchemy's default
DEFAULT_DRIVERS = {"postgresql": "psycopg"}
# import name -> the distribution to pip install, where they differ
_DISTRIBUTIONS = {"MySQLdb": "mysqlclient", "psycopg2": "psycopg2-binary", "cx_Oracle": "cx-Oracle"}


def _sqlite_authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
    if action == sqlite3.SQLITE_PRAGMA:
        return (
            sqlite3.SQLITE_OK if (arg1 or "").lower() in _SQLITE_READ_PRAGMAS and arg2 is None else sqlite3.SQLITE_DENY
        )
    if action not in _SQLITE_ALLOWED:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _SQLITE_DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def missing_driver_message(url: sa.URL, exc: BaseException) -> str:
    """One line naming what to install for a database URL whose driver is not importable."""
    backend, driver = url.get_backend_name(), url.get_driver_name()
    module = (getattr(exc, "name", None) or driver or backend).split(".")[0][:60]
    extra = DRIVER_EXTRAS.get((backend, driver))
    how = f"pip install 'hotcrm-ai[{extra}]'" if extra else f"pip install {_DISTRIBUTIONS.get(module, module)}"
    return f"reporting.database_url: the {backend} driver '{module}' is not installed; install it with: {how}"


def database_url(url: str) -> sa.URL:
    """``url`` parsed, with the driver the ``[postgres]`` extra installs when it names none, and its
    driver imported now, so a missing one is a one-line ``DatabaseURLError`` naming what to install."""
    parsed: sa.URL | None = None
    try:
        parsed = sa.make_url(url)
        if "+" not in parsed.drivername and parsed.drivername in DEFAULT_DRIVERS:
            parsed = parsed.set(drivername=f"{parsed.drivername}+{DEFAULT_DRIVERS[parsed.drivername]}")
        dialect = parsed.get_dialect()  # an unknown dialect or driver fails here, not at the first question
        if parsed.get_backend_name() != "sqlite":
            dialect.import_dbapi()
    except ImportError as exc:
        assert parsed is not None
        raise DatabaseURLError(missing_driver_message(parsed, exc)) from None
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError, TypeError) as exc:
        # the URL itself is never echoed (it may carry a password): ArgumentError's message quotes it
        detail = "unparsable" if isinstance(exc, sa.exc.ArgumentError) else str(exc).splitlines()[0][:120]
        raise DatabaseURLError(
            "reporting.database_url: expected a SQLAlchemy URL with an installed dialect and driver "
            f"({type(exc).__name__}: {detail})"
        ) from None
    return parsed


@attrs.frozen
class Executed:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    elapsed_ms: float


def _plain(v: Any) -> Any:
    """JSON-friendly values: Decimal -> float, dates -> ISO text."""
    if isinstance(v, Decimal):
        return float(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


class ReadOnlyExecutor:
    """Runs SELECT statements on ``url`` and nothing else. ``timeout_s`` bounds each statement."""

    def __init__(self, url: str, *, row_cap: int = 1000, timeout_s: float = 10.0) -> None:
        if row_cap < 1:
            raise ReportingError(f"reporting.row_cap: expected a positive integer, got {row_cap}")
        if not timeout_s > 0:
            raise ReportingError(f"reporting.timeout_s: expected a positive number, got {timeout_s}")
        self.url = database_url(url)
        self.row_cap = row_cap
        self.timeout_s = timeout_s
        self.path: Path | None  # the SQLite file, None for a server database
        if self.url.get_backend_name() == "sqlite":
            db = self.url.database
            if not db or db == ":memory:":
                raise DatabaseURLError(
                    "reporting.database_url: expected a SQLite file (an in-memory database cannot be opened read-only)"
                )
            self.path = Path(db).resolve()
            if not self.path.is_file():
                raise DatabaseURLError(f"reporting.database_url: SQLite file not found: {self.path}")
            uri = f"file:{quote(str(self.path))}?mode=ro"
            # a few read-only connections are kept (opening one costs about as much as a small query); a
            # file replaced on disk is seen once the engine is closed and opened again
            self.engine = sa.create_engine(
                "sqlite://", creator=lambda: self._sqlite_connect(uri), poolclass=sa.pool.QueuePool, pool_size=4
            )
        else:
            self.path = None
            self.engine = sa.create_engine(self.url, pool_pre_ping=True)

    def _sqlite_connect(self, uri: str) -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        conn.execute("PRAGMA query_only = 1")
        conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        conn.set_authorizer(_sqlite_authorizer)
        return conn

    @property
    def dialect(self) -> sa.Dialect:
        return self.engine.dialect

    @contextmanager
    def read_only_connection(self) -> Iterator[sa.Connection]:
        """A connection inside a read-only transaction that is always rolled back."""
        backend = self.engine.dialect.name
        deadline = time.monotonic() + self.timeout_s
        with self.engine.connect() as conn:
            if backend == "sqlite":
                # abort a statement past this connection's deadline (checked every 10k VM instructions);
                # per connection, so concurrent questions never share a clock
                raw = conn.connection.dbapi_connection
                raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)  # type: ignore[union-attr]
            elif backend == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(self.timeout_s * 1000)}")
            elif backend == "mysql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            try:
                yield conn
            finally:
                conn.rollback()
                if backend == "sqlite":
                    conn.connection.dbapi_connection.set_progress_handler(None, 0)  # type: ignore[union-attr]

    def run(self, stmt: sa.Select[Any], *, cap: int | None = None, catalogue_read: bool = False) -> Executed:
        """Execute one SELECT; at most ``cap`` (default the row cap) rows come back."""
        if not isinstance(stmt, sa.Select):
            raise ReportingError("only SELECT statements built by the compiler can be executed")
        # the row cap bounds answers; the engine's own reads of values and names have their own limit
        cap = (cap or self.row_cap) if catalogue_read else min(cap or self.row_cap, self.row_cap)
        t0 = time.perf_counter()
        try:
            with self.read_only_connection() as conn:
                result = conn.execute(stmt)
                cols = list(result.keys())
                raw = result.fetchmany(cap + 1)
        except sa.exc.OperationalError as exc:
            text = str(exc.orig if exc.orig is not None else exc).lower()
            if "interrupted" in text or "statement timeout" in text or "canceling statement" in text:
                raise ReportingError(f"query exceeded the time limit of {self.timeout_s:g} s") from None
            raise ReportingError(f"database error: {str(exc.orig or exc).splitlines()[0][:200]}") from None
        except sa.exc.DBAPIError as exc:
            raise ReportingError(f"database error: {str(exc.orig or exc).splitlines()[0][:200]}") from None
        except (OverflowError, sa.exc.StatementError) as exc:  # a parameter the driver cannot bind
            raise ReportingError(f"database error: {str(exc).splitlines()[0][:200]}") from None
        rows = [tuple(_plain(v) for v in r) for r in raw[:cap]]
        return Executed(cols, rows, len(raw) > cap, (time.perf_counter() - t0) * 1000)

    def distinct_values(self, table: str, column: str, *, limit: int = 200) -> tuple[str, ...]:
        """Distinct text values of a categorical catalogue column (feeds value matching in translators)."""
        t = sa.table(table, sa.column(column))
        stmt = sa.select(t.c[column]).where(t.c[column].is_not(None)).distinct().order_by(t.c[column]).limit(limit)
        return tuple(str(r[0]) for r in self.run(stmt, cap=limit, catalogue_read=True).rows)

    def close(self) -> None:
        self.engine.dispose()
