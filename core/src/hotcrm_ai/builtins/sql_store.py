"""The built-in ``sql`` store (SQLite by default, PostgreSQL with the ``postgres`` extra)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hotcrm_ai.descriptors import StoreSpec
from hotcrm_ai.hookspecs import hookimpl
from hotcrm_ai.interfaces import Store


def _sql(options: Mapping[str, Any]) -> Store:
    from hotcrm_ai.store.sql import SQLStore

    return SQLStore(options)


@hookimpl
def register_stores(register: Callable[[StoreSpec], None]) -> None:
    register(StoreSpec("sql", _sql, "SQLAlchemy: SQLite file (WAL) or PostgreSQL (psycopg 3)"))
